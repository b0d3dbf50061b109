//! Account linking end to end, both shapes: NUGU (the emulator) sends the user's browser to the
//! publisher's authentication page (the crate's HTTPS server on 127.0.0.1), which hands the
//! token to NUGU's `callBack` through that browser (an auto-submitting form) or server to
//! server; NUGU then posts the outcome to a one-use `confirmUrl`. The browser is a reqwest
//! client that reads the page as a browser would: the headers, the form's method and action,
//! the script the Content-Security-Policy lets run.
#![cfg(all(feature = "biz-emulator", feature = "server"))]

use std::time::Duration;

use axum::Router;
use nugu_proxy::biz::emulator::{Edition, Emulator, EmulatorError};
use nugu_proxy::biz::{
    BizClient, ConfirmUrl, ConfirmedLink, InvitationReason, InvitationRequest, InvitationTarget,
    Invitee, LinkConfirmations, LinkError, LinkPolicy, LinkResultCode, SignedInLink, UserApiToken,
};
use nugu_proxy::server::Server;
use tokio::sync::mpsc;

mod common;
use common::browser::{read_form, script_allowed};
use common::https::{cert_for_localhost, TestCert};

const PLAY: &str = "com.example.attendance";

/// The token the publisher makes for a user (one per email).
fn token_of(email: &str) -> String {
    format!("publisher-token-of-{email}")
}

/// The publisher's site over HTTPS: `/nugu/auth` answers the browser with the link page,
/// `/nugu/auth-s2s` completes the link server to server, `/nugu/confirm/{nonce}` receives
/// NUGU's confirmations. Its login is a stand-in: the `session` cookie names the signed-in
/// user's email.
struct Site {
    base: String,
    browser: reqwest::Client,
    confirmed: mpsc::UnboundedReceiver<ConfirmedLink>,
    confirmations: LinkConfirmations,
}

impl Site {
    async fn next_confirmation(&mut self) -> ConfirmedLink {
        tokio::time::timeout(Duration::from_secs(10), self.confirmed.recv())
            .await
            .expect("NUGU's confirmation arrives")
            .expect("the site runs")
    }
}

async fn site(emulator_client: BizClient) -> (Site, TestCert) {
    let certified = cert_for_localhost();
    let server = Server::builder()
        .tls(certified.tls())
        .public_url("https://localhost/".parse().unwrap())
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = server.local_addr().port();
    let base = format!("https://localhost:{port}");
    let confirmations = LinkConfirmations::new(&format!("{base}/nugu/confirm/")).unwrap();
    // NUGU's callBack is the emulator's, plain http on 127.0.0.1: only there is any port allowed.
    let policy =
        LinkPolicy::new(["nugu.example"]).dangerous_allow_http_callback_hosts(["127.0.0.1"]);
    let (tx, confirmed) = mpsc::unbounded_channel();
    let browser_shape = {
        let (policy, confirmations) = (policy.clone(), confirmations.clone());
        move |headers: http::HeaderMap, uri: http::Uri| {
            let (policy, confirmations) = (policy.clone(), confirmations.clone());
            async move {
                let answer = prepare(&policy, &confirmations, &headers, &uri).and_then(
                    |(link, token, confirm_url)| link.browser_page(&token, Some(&confirm_url)),
                );
                match answer {
                    Ok(page) => page,
                    Err(err) => refusal(err),
                }
            }
        }
    };
    let server_shape = {
        let (policy, confirmations) = (policy.clone(), confirmations.clone());
        move |headers: http::HeaderMap, uri: http::Uri| {
            let (policy, confirmations, client) = (
                policy.clone(),
                confirmations.clone(),
                emulator_client.clone(),
            );
            async move {
                let (link, token, confirm_url) =
                    match prepare(&policy, &confirmations, &headers, &uri) {
                        Ok(prepared) => prepared,
                        Err(err) => return refusal(err),
                    };
                match client
                    .complete_link(&link, &token, Some(&confirm_url))
                    .await
                {
                    Ok(()) => http::Response::new("linked; back to NUGU".to_owned()),
                    Err(err) => {
                        let mut answer = http::Response::new(err.to_string());
                        *answer.status_mut() = http::StatusCode::BAD_GATEWAY;
                        answer
                    }
                }
            }
        }
    };
    let app = Router::new()
        .route("/nugu/auth", axum::routing::get(browser_shape))
        .route("/nugu/auth-s2s", axum::routing::get(server_shape))
        .route_service(
            "/nugu/confirm/{nonce}",
            confirmations.service(move |confirmed: ConfirmedLink| {
                let _ = tx.send(confirmed);
                async {}
            }),
        );
    tokio::spawn(server.serve_with_shutdown(app, std::future::pending()));
    let browser = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert_pem.as_bytes()).unwrap(),
        )
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let site = Site {
        base,
        browser,
        confirmed,
        confirmations,
    };
    (site, certified)
}

/// What both shapes do first: read NUGU's request, bind it to the signed-in user, make their
/// token and a confirmation URL.
fn prepare(
    policy: &LinkPolicy,
    confirmations: &LinkConfirmations,
    headers: &http::HeaderMap,
    uri: &http::Uri,
) -> Result<(SignedInLink, UserApiToken, ConfirmUrl), LinkError> {
    let signed_in = session(headers).ok_or(LinkError::NotTheSignedInUser)?;
    let link = policy.parse_uri(uri)?.for_signed_in_user(&signed_in)?;
    let token = UserApiToken::new(token_of(link.email().expose()));
    let confirm_url = confirmations.issue(&link, &token)?;
    Ok((link, token, confirm_url))
}

fn session(headers: &http::HeaderMap) -> Option<String> {
    let cookies = headers.get(http::header::COOKIE)?.to_str().ok()?;
    cookies
        .split(';')
        .find_map(|c| c.trim().strip_prefix("session="))
        .map(str::to_owned)
}

fn refusal(err: LinkError) -> http::Response<String> {
    let mut answer = http::Response::new(err.to_string());
    *answer.status_mut() = err.status();
    answer
}

/// An emulator that trusts the site's certificate, the site, and a client of the emulator.
async fn setup() -> (Emulator, Site, BizClient) {
    // The site's client as in production, aimed at the real API over https: completing a link
    // posts only to callBack, an absolute URL the policy checked (here the emulator's, plain
    // http on 127.0.0.1).
    let production = BizClient::new(nugu_proxy::biz::PublisherToken::new("unused-here")).unwrap();
    let (site, certified) = site(production).await;
    let emulator = Emulator::builder()
        .edition(Edition::Full)
        .trust_certificate_pem(certified.cert_pem.as_bytes())
        .unwrap()
        .start()
        .await
        .unwrap();
    emulator.add_play(PLAY);
    emulator.set_auth_url(format!("{}/nugu/auth", site.base));
    let client = emulator.client_builder().build().unwrap();
    (emulator, site, client)
}

async fn invite(client: &BizClient, email: &str) {
    client
        .invite(&InvitationRequest::new(
            InvitationTarget::Plays(vec![PLAY.into()]),
            vec![Invitee::new(email, "홍길동", "01011112222")],
            InvitationReason::new("계정 연동 시험").unwrap(),
        ))
        .await
        .unwrap();
}

/// The browser opens what NUGU sent it to, signed in as `signed_in`.
async fn open(site: &Site, url: &str, signed_in: &str) -> reqwest::Response {
    site.browser
        .get(url)
        .header("cookie", format!("session={signed_in}"))
        .send()
        .await
        .unwrap()
}

/// NUGU sends the invitee `email`'s browser to the site's `page`, where `signed_in` is signed
/// in: answers NUGU's URL (its `status` and `confirmUrl` for checks) and the page's answer.
async fn visit(
    emulator: &Emulator,
    site: &Site,
    email: &str,
    page: &str,
    signed_in: &str,
) -> (String, reqwest::Response) {
    let nugu_url = emulator.link_url(email).unwrap();
    let answer = open(site, &to_page(&nugu_url, site, page), signed_in).await;
    (nugu_url, answer)
}

/// The URL NUGU sends the user's browser to, aimed at one of the site's pages.
fn to_page(nugu_url: &str, site: &Site, page: &str) -> String {
    let query = reqwest::Url::parse(nugu_url)
        .unwrap()
        .query()
        .unwrap()
        .to_owned();
    format!("{}{page}?{query}", site.base)
}

/// The browser shape: the page answers the browser, whose form posts the token to the
/// emulator's callBack; the user finishes; the confirmation arrives once, at its own URL.
#[tokio::test]
async fn the_browser_shape_links_the_signed_in_user_end_to_end() {
    let (emulator, mut site, client) = setup().await;
    let email = "hong.gd@example.com";
    invite(&client, email).await;
    let (nugu_url, answer) = visit(&emulator, &site, email, "/nugu/auth", email).await;
    assert_eq!(answer.status(), 200);
    let headers = answer.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let csp = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("base-uri 'none'"),
        "{csp}"
    );
    let html = answer.text().await.unwrap();
    let form = read_form(&html);

    // The browser runs the script only if the policy names its hash.
    assert!(script_allowed(&csp, &form), "{csp}");
    assert!(form.script.contains(".submit()"), "{}", form.script);

    // The form posts to NUGU's callBack with the documented query, nothing else.
    assert_eq!(form.method, "post");
    let action = reqwest::Url::parse(&form.action).unwrap();
    let mut bare = action.clone();
    bare.set_query(None);
    assert_eq!(
        bare.as_str(),
        format!("{}/emulator/link/callback", emulator.base_url())
    );
    let names: Vec<String> = action.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, ["status", "userApiToken", "confirmUrl"]);
    let value = |name: &str| {
        action
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let nugu_status = reqwest::Url::parse(&nugu_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "status")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(value("status"), nugu_status, "status goes back unchanged");
    assert_eq!(value("userApiToken"), token_of(email));
    let confirm_url = value("confirmUrl");
    assert!(
        confirm_url.starts_with(&format!("{}/nugu/confirm/", site.base)),
        "{confirm_url}"
    );
    assert!(!html.contains(email), "the email is not on the page");

    // Submitting the form, as a browser does (an empty urlencoded body: no inputs).
    let posted = site
        .browser
        .post(action.as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);

    // The user finishes the invitation on NUGU's pages.
    emulator.finish_link(email).await.unwrap();
    let confirmed = site.next_confirmation().await;
    assert_eq!(confirmed.email.expose(), email);
    assert_eq!(confirmed.confirmation.result_code, LinkResultCode::Ok);
    assert_eq!(
        confirmed.confirmation.user_api_token.expose(),
        token_of(email)
    );
    let play = emulator.private_play(email, PLAY, "NU200_1").unwrap();
    let expected = token_of(email);
    assert_eq!(
        play.enrolled_user().unwrap().user_token(),
        Some(expected.as_str())
    );
    assert_eq!(site.confirmations.pending(), 0);

    // Item 4: the URL was good once. A replay finds nothing; so does a made-up nonce.
    let replay = site
        .browser
        .post(&confirm_url)
        .json(&serde_json::json!({"userApiToken": token_of(email), "resultCode": "OK"}))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 404, "a replayed confirmation");
    let made_up = site
        .browser
        .post(format!("{}/nugu/confirm/{}", site.base, "0".repeat(64)))
        .json(&serde_json::json!({"userApiToken": token_of(email), "resultCode": "OK"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made_up.status(), 404);
    assert!(site.confirmed.try_recv().is_err(), "the handler ran once");
}

/// A confirmation URL takes only the token it was issued with, and only by POST; a refused
/// post leaves it usable for NUGU's own.
#[tokio::test]
async fn a_confirmation_url_takes_only_its_own_token_once() {
    let (emulator, mut site, client) = setup().await;
    let email = "kim@example.com";
    invite(&client, email).await;
    let (_, answer) = visit(&emulator, &site, email, "/nugu/auth", email).await;
    let html = answer.text().await.unwrap();
    let action = reqwest::Url::parse(&read_form(&html).action).unwrap();
    let confirm_url = action
        .query_pairs()
        .find(|(k, _)| k == "confirmUrl")
        .unwrap()
        .1
        .into_owned();
    let forged = site
        .browser
        .post(&confirm_url)
        .json(&serde_json::json!({"userApiToken": "someone-elses", "resultCode": "OK"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400, "another token");
    let get = site.browser.get(&confirm_url).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    assert!(site.confirmed.try_recv().is_err());

    // NUGU's own post still gets through, once.
    site.browser.post(action.as_str()).send().await.unwrap();
    emulator.finish_link(email).await.unwrap();
    let confirmed = site.next_confirmation().await;
    assert_eq!(confirmed.confirmation.result_code, LinkResultCode::Ok);
    // Two links, two URLs.
    invite(&client, "lee@example.com").await;
    let lee = "lee@example.com";
    let (_, other) = visit(&emulator, &site, lee, "/nugu/auth", lee).await;
    let other_html = other.text().await.unwrap();
    assert!(!other_html.contains(&confirm_url));
}

/// The server-to-server shape: the page posts the token itself, then answers the browser.
#[tokio::test]
async fn the_server_to_server_shape_links_end_to_end() {
    let (emulator, mut site, client) = setup().await;
    let email = "park@example.com";
    invite(&client, email).await;
    let (_, answer) = visit(&emulator, &site, email, "/nugu/auth-s2s", email).await;
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    emulator.finish_link(email).await.unwrap();
    let confirmed = site.next_confirmation().await;
    assert_eq!(confirmed.confirmation.result_code, LinkResultCode::Ok);
    assert_eq!(confirmed.email.expose(), email);
}

/// Item 2: an invitee forwards their link to a colleague, who is signed in to the site. The
/// page refuses it (403) and nothing is linked; the invitee's own visit then links them.
#[tokio::test]
async fn a_forwarded_link_is_refused_for_another_signed_in_user() {
    let (emulator, site, client) = setup().await;
    let insider = "insider@example.com";
    let colleague = "colleague@example.com";
    invite(&client, insider).await;
    let nugu_url = emulator.link_url(insider).unwrap();
    for page in ["/nugu/auth", "/nugu/auth-s2s"] {
        let answer = open(&site, &to_page(&nugu_url, &site, page), colleague).await;
        assert_eq!(answer.status(), 403, "{page}");
        let text = answer.text().await.unwrap();
        assert!(
            !text.contains(insider) && !text.contains(colleague),
            "{text}"
        );
    }
    assert_eq!(
        emulator.finish_link(insider).await,
        Err(EmulatorError::LinkAbandoned)
    );
    assert_eq!(
        emulator
            .private_play_profile(insider, PLAY, "d")
            .unwrap_err(),
        EmulatorError::NotEnrolled
    );
    assert_eq!(
        site.confirmations.pending(),
        0,
        "no confirmation URL was issued"
    );

    let (_, answer) = visit(&emulator, &site, insider, "/nugu/auth", insider).await;
    let html = answer.text().await.unwrap();
    let posted = site
        .browser
        .post(read_form(&html).action)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    emulator.finish_link(insider).await.unwrap();
    let profile = emulator.private_play_profile(insider, PLAY, "d").unwrap();
    assert_eq!(profile["enrolledUser"]["userToken"], token_of(insider));
}

/// Records the query of every POST to `/cb` on 127.0.0.1: a `callBack` an attacker points at.
async fn raw_receiver() -> (String, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/cb",
        axum::routing::post(move |uri: http::Uri| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(uri.query().unwrap_or_default().to_owned());
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/cb"), rx)
}

fn auth_query(status: &str, email: &str, callback: &str) -> String {
    let mut url = reqwest::Url::parse("http://x/").unwrap();
    url.query_pairs_mut()
        .append_pair("status", status)
        .append_pair("email", email)
        .append_pair("callBack", callback);
    url.query().unwrap().to_owned()
}

/// Item 1: a `callBack` that already carries `confirmUrl` and `status` (the attacker's) is
/// refused by both shapes, and nothing reaches it.
#[tokio::test]
async fn a_callback_whose_query_names_a_sent_parameter_is_refused() {
    let (_emulator, site, _client) = setup().await;
    let (callback, mut posted) = raw_receiver().await;
    let polluted =
        format!("{callback}?confirmUrl=https%3A%2F%2Fevil.example%2Fsteal&status=attackers");
    let email = "victim@example.com";
    for page in ["/nugu/auth", "/nugu/auth-s2s"] {
        let url = format!(
            "{}{page}?{}",
            site.base,
            auth_query("st-1", email, &polluted)
        );
        let answer = open(&site, &url, email).await;
        assert_eq!(answer.status(), 400, "{page}");
        assert_eq!(
            answer.text().await.unwrap(),
            LinkError::CallbackQueryClash("confirmUrl").to_string()
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        posted.try_recv().is_err(),
        "nothing was posted to the polluted callBack"
    );
    // A query of its own that names none of them passes; the values follow it.
    let own = format!("{callback}?flow=biz");
    let url = format!(
        "{}/nugu/auth-s2s?{}",
        site.base,
        auth_query("st-2", email, &own)
    );
    let answer = open(&site, &url, email).await;
    // The raw receiver is not NUGU: the post reaches it, and its answer is what it is.
    let _ = answer.status();
    let query = tokio::time::timeout(Duration::from_secs(10), posted.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        query.starts_with("flow=biz&status=st-2&userApiToken="),
        "{query}"
    );
}

/// Item 3 and issue 21 item 4: `callBack` on ports 80 and 443 only; plain http on 80 passes
/// (the page does not require https), any other port is refused.
#[tokio::test]
async fn a_callback_on_another_port_is_refused_and_http_on_80_passes() {
    let (_emulator, site, _client) = setup().await;
    let email = "kim@example.com";
    for (callback, status, text) in [
        (
            "https://nugu.example:8443/cb",
            400,
            Some(LinkError::CallbackPort(8443).to_string()),
        ),
        (
            "http://nugu.example:8080/cb",
            400,
            Some(LinkError::CallbackPort(8080).to_string()),
        ),
        ("http://nugu.example/cb", 200, None),
        ("https://nugu.example:443/cb", 200, None),
    ] {
        let url = format!(
            "{}/nugu/auth?{}",
            site.base,
            auth_query("st", email, callback)
        );
        let answer = open(&site, &url, email).await;
        assert_eq!(answer.status(), status, "{callback}");
        let body = answer.text().await.unwrap();
        match text {
            Some(text) => assert_eq!(body, text),
            None => {
                let callback = reqwest::Url::parse(callback).unwrap();
                assert!(
                    read_form(&body).action.starts_with(callback.as_str()),
                    "{body}"
                );
            }
        }
    }
}

/// The emulator's `callBack` reads the documented query and, tolerantly, a form body; a value
/// given twice differently (a polluted `callBack`) is refused.
#[tokio::test]
async fn the_emulators_callback_reads_a_form_body_and_refuses_two_values() {
    let (emulator, _site, client) = setup().await;
    let email = "choi@example.com";
    invite(&client, email).await;
    let nugu_url = reqwest::Url::parse(&emulator.link_url(email).unwrap()).unwrap();
    let param = |name: &str| {
        nugu_url
            .query_pairs()
            .find(|(k, _)| k == name)
            .unwrap()
            .1
            .into_owned()
    };
    let (status, callback) = (param("status"), param("callBack"));
    let http = reqwest::Client::new();
    let form = |body: String| {
        http.post(&callback)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    };
    let two_values = form(format!("status={status}&userApiToken=t-2"))
        .query(&[("status", "attackers")])
        .send()
        .await
        .unwrap();
    assert_eq!(two_values.status(), 400);
    let in_body = form(format!("status={status}&userApiToken=t-body"))
        .send()
        .await
        .unwrap();
    assert_eq!(in_body.status(), 200);
    emulator.finish_link(email).await.unwrap();
    let profile = emulator.private_play_profile(email, PLAY, "d").unwrap();
    assert_eq!(profile["enrolledUser"]["userToken"], "t-body");
}

//! The whole invitation loop on one machine: the Biz client invites a user through the
//! emulator, the user accepts, and a NUGU request built from the emulator's profile reaches a
//! proxy using `PrivatePlayLayer` over HTTPS, whose handler sees exactly that enrolled user.
//!
//! The proxy is the crate's own HTTPS server (`nugu_proxy::server`), which gives every request
//! the `ConnectionInfo` the layer requires as proof of HTTPS.
#![cfg(all(feature = "biz-emulator", feature = "server"))]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use nugu_proxy::biz::emulator::{DeviceState, Edition, Emulator, EmulatorError};
use nugu_proxy::biz::{
    GroupRequest, InvitationReason, InvitationRequest, InvitationTarget, Invitee,
};
use nugu_proxy::layer::ApiKey;
use nugu_proxy::server::{Server, TlsConfig};
use nugu_proxy::{ActionRequest, ActionResponse, EnrolledUser, PrivatePlay, PrivatePlayLayer};
use serde_json::{json, Value};

mod common;

const API_KEY: &str = "nugu-api-key-for-the-end-to-end-test";
const PLAY: &str = "com.example.attendance";
const DEVICE: &str = "NU200_000042";

/// What the handler saw, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    name: String,
    phone_no: String,
    email: String,
    tag: Option<String>,
    user_token: Option<String>,
    service_type: Option<String>,
    device_unique_id: Option<String>,
    user_key: String,
    device_key: String,
}

fn seen(play: &PrivatePlay, user: &EnrolledUser) -> Seen {
    Seen {
        name: user.name().unwrap_or_default().to_owned(),
        phone_no: user.phone_no().unwrap_or_default().to_owned(),
        email: user.email().unwrap_or_default().to_owned(),
        tag: user.tag().map(str::to_owned),
        user_token: user.user_token().map(str::to_owned),
        service_type: user.service_type().map(|s| s.as_str().to_owned()),
        device_unique_id: play.device_unique_id().map(str::to_owned),
        user_key: play.user_key().to_owned(),
        device_key: play.device_key().to_owned(),
    }
}

/// The crate's HTTPS server on 127.0.0.1 for `localhost`, serving `PrivatePlayLayer` in front
/// of a handler that records the enrolled user. Answers the address and the certificate to
/// trust; the server stops when the test's runtime ends.
async fn serve_proxy(record: Arc<Mutex<Vec<Seen>>>) -> (SocketAddr, reqwest::Certificate) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let tls = TlsConfig::from_pem(
        certified.cert.pem().as_bytes(),
        certified.signing_key.serialize_pem().as_bytes(),
    )
    .unwrap();
    let handler = move |req: Request<Full<Bytes>>| {
        let record = record.clone();
        async move {
            let ext = req.extensions();
            let action = ext.get::<ActionRequest>().expect("set by the layer");
            let response = match (ext.get::<PrivatePlay>(), ext.get::<EnrolledUser>()) {
                (Some(play), Some(user)) => {
                    record.lock().unwrap().push(seen(play, user));
                    ActionResponse::from_request(action)
                        .output("userName", user.name().unwrap_or_default())
                }
                // A Biz-dedicated device: a profile, no enrolled user.
                (Some(play), None) => ActionResponse::from_request(action)
                    .output("deviceKey", play.device_key())
                    .exception("NOT_ENROLLED"),
                _ => ActionResponse::from_request(action).exception("NOT_ENROLLED"),
            };
            Ok::<Response<Full<Bytes>>, Infallible>(response.into_http())
        }
    };
    let service = tower::ServiceBuilder::new()
        .layer(PrivatePlayLayer::new(ApiKey::new(API_KEY).unwrap()))
        .service_fn(handler);
    let server = Server::builder()
        .tls(tls)
        .public_url("https://localhost/nugu".parse().unwrap())
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.serve_with_shutdown(service, std::future::pending()));
    let cert = reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap();
    (addr, cert)
}

/// The body NUGU sends for action `check_in` of a Private Play, with `profile.privatePlay`.
fn nugu_request(private_play: Value) -> String {
    json!({
        "version": "2.0",
        "action": {"actionName": "check_in", "parameters": {"place": {"type": "PLACE", "value": "HQ"}}},
        "context": {
            "session": {"id": "session-1", "isNew": true, "isPlayBuilderRequest": false},
            "device": {"type": "speaker.nugu.nu200", "state": {}},
            "supportedInterfaces": null,
            "privatePlay": {}
        },
        "profile": {"privatePlay": private_play}
    })
    .to_string()
}

/// POSTs `body` to the proxy as a speaker's request over HTTPS, trusting only its certificate.
async fn send_as_nugu(
    (addr, cert): (SocketAddr, reqwest::Certificate),
    api_key: &str,
    body: String,
) -> reqwest::Response {
    reqwest::Client::builder()
        .https_only(true)
        .add_root_certificate(cert)
        .resolve("localhost", addr)
        .build()
        .unwrap()
        .post(format!("https://localhost:{}/nugu/check_in", addr.port()))
        .header("content-type", "application/json")
        .header("accept", "application/json, */*")
        .header("authorization", format!("token {api_key}"))
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn invite_and_accept(emulator: &Emulator, invitee: Invitee) {
    let client = emulator.client_builder().build().unwrap();
    let group = client
        .create_group(&GroupRequest::new("Headquarters").play_service_ids([PLAY]))
        .await
        .unwrap();
    client
        .invite(&InvitationRequest::new(
            InvitationTarget::Group(group.id),
            vec![invitee],
            InvitationReason::new("출퇴근 체크 Private Play").unwrap(),
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_invited_user_who_accepted_reaches_the_handler_over_https() {
    for edition in [Edition::Trial, Edition::Full] {
        let emulator = Emulator::builder().edition(edition).start().await.unwrap();
        emulator.add_play(PLAY);
        let email = "hong.gd@example.com";
        invite_and_accept(
            &emulator,
            Invitee::new(email, "홍길동", "010-1111-2222".replace('-', "")).alias("율도국-001"),
        )
        .await;
        // Not yet accepted: NUGU would not send an enrolled user.
        assert!(emulator.private_play_profile(email, PLAY, DEVICE).is_err());
        let user_id = emulator.accept_invitation(email).unwrap();
        let profile = emulator.private_play_profile(email, PLAY, DEVICE).unwrap();

        let record = Arc::new(Mutex::new(Vec::new()));
        let proxy = serve_proxy(record.clone()).await;
        let response = send_as_nugu(proxy, API_KEY, nugu_request(profile.clone())).await;
        assert_eq!(response.status(), 200);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["resultCode"], "OK", "{answer}");
        assert_eq!(answer["output"]["userName"], "홍길동");
        assert_eq!(answer["output"]["place"], "HQ");

        // Exactly the invited user, as the Biz API knows them.
        let detail = emulator
            .client_builder()
            .build()
            .unwrap()
            .user(&user_id)
            .await
            .unwrap();
        let full = edition == Edition::Full;
        assert_eq!(detail.token, None);
        let expected = Seen {
            name: "홍길동".into(),
            phone_no: "01011112222".into(),
            email: email.into(),
            tag: Some("율도국-001".into()),
            // Accepted without linking: no token (only a link gives one), invited to plays;
            // `serviceType` is sent to full-edition publishers only.
            user_token: None,
            service_type: full.then(|| "PLAY".to_owned()),
            device_unique_id: Some(DEVICE.into()),
            user_key: profile["userKey"].as_str().unwrap().to_owned(),
            device_key: profile["deviceKey"].as_str().unwrap().to_owned(),
        };
        assert_eq!(*record.lock().unwrap(), [expected], "{edition:?}");

        // After the user revokes the permission NUGU sends no enrolled user for them.
        emulator.revoke(email).unwrap();
        assert!(emulator.private_play_profile(email, PLAY, DEVICE).is_err());
    }
}

#[tokio::test]
async fn the_proxy_refuses_a_request_without_the_api_key_and_the_handler_sees_nothing() {
    let emulator = Emulator::start().await.unwrap();
    emulator.add_play(PLAY);
    invite_and_accept(&emulator, Invitee::new("a@example.com", "A", "01012345678")).await;
    emulator.accept_invitation("a@example.com").unwrap();
    let profile = emulator
        .private_play_profile("a@example.com", PLAY, DEVICE)
        .unwrap();
    let record = Arc::new(Mutex::new(Vec::new()));
    let proxy = serve_proxy(record.clone()).await;
    let response = send_as_nugu(proxy, "wrong-key", nugu_request(profile)).await;
    assert_eq!(response.status(), 401);
    assert!(record.lock().unwrap().is_empty());
}

/// The publisher's own HTTPS site (the crate's server, rustls, on 127.0.0.1 for `localhost`):
/// the authentication page of account linking (the browser shape), a one-use confirmation URL
/// per link for NUGU's confirmation, and a `CallbackService` for the announcement result.
/// Answers its port and what the callbacks received.
async fn serve_publisher_site(
    certified: &rcgen::CertifiedKey<rcgen::KeyPair>,
    user_api_token: &'static str,
) -> (
    u16,
    tokio::sync::mpsc::UnboundedReceiver<nugu_proxy::biz::LinkConfirmation>,
    tokio::sync::mpsc::UnboundedReceiver<nugu_proxy::biz::UserAnnouncementResult>,
) {
    use nugu_proxy::biz::{
        CallbackService, ConfirmedLink, LinkConfirmations, LinkPolicy, UserAnnouncementResult,
        UserApiToken,
    };
    let tls = TlsConfig::from_pem(
        certified.cert.pem().as_bytes(),
        certified.signing_key.serialize_pem().as_bytes(),
    )
    .unwrap();
    let server = Server::builder()
        .tls(tls)
        .public_url("https://localhost/".parse().unwrap())
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = server.local_addr().port();
    let confirmations =
        LinkConfirmations::new(&format!("https://localhost:{port}/nugu/confirm/")).unwrap();
    // NUGU's callBack is the emulator's, plain http on 127.0.0.1: only there is http allowed.
    let policy =
        LinkPolicy::new(["nugu.example"]).dangerous_allow_http_callback_hosts(["127.0.0.1"]);
    // The browser shape: NUGU sends the user's browser here; the page signs the user in (a
    // stand-in login: the `session` cookie names the signed-in email) and answers the browser
    // with the form that posts the token to NUGU's `callBack`.
    let auth_page = {
        let confirmations = confirmations.clone();
        move |uri: http::Uri, headers: http::HeaderMap| {
            let (policy, confirmations) = (policy.clone(), confirmations.clone());
            async move {
                let token = UserApiToken::new(user_api_token);
                let signed_in = headers
                    .get("cookie")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("session="))
                    .unwrap_or_default()
                    .to_owned();
                let page = policy.parse_uri(&uri).and_then(|auth| {
                    let link = auth.for_signed_in_user(&signed_in)?;
                    let confirm_url = confirmations.issue(&link, &token)?;
                    link.browser_page(&token, Some(&confirm_url))
                });
                page.unwrap_or_else(|err| {
                    let mut refusal = http::Response::new(err.to_string());
                    *refusal.status_mut() = err.status();
                    refusal
                })
            }
        }
    };
    let (confirmed, confirmations_received) = tokio::sync::mpsc::unbounded_channel();
    let (announced, results) = tokio::sync::mpsc::unbounded_channel();
    let site = axum::Router::new()
        .route("/nugu/auth", axum::routing::get(auth_page))
        .route_service(
            "/nugu/confirm/{nonce}",
            confirmations.service(move |c: ConfirmedLink| {
                let _ = confirmed.send(c.confirmation);
                async {}
            }),
        )
        .route_service(
            "/nugu/announced/9e2a",
            CallbackService::new(move |r: UserAnnouncementResult| {
                let _ = announced.send(r);
                async {}
            }),
        );
    tokio::spawn(server.serve_with_shutdown(site, std::future::pending()));
    (port, confirmations_received, results)
}

/// The full edition end to end: invite; accept with account linking as NUGU runs it, through
/// the user's browser (NUGU sends it to the publisher's page over HTTPS, whose form posts the
/// token to NUGU's `callBack`); the confirmation at its own URL; the user's request with
/// `userToken`/`SERVICE` reaches the handler through `PrivatePlayLayer`; an announcement to
/// that user; its result arrives at the publisher's callback.
#[tokio::test]
async fn a_linked_user_reaches_the_handler_with_their_token_and_hears_an_announcement() {
    use nugu_proxy::biz::{
        Announcement, AnnouncementResultCode, DeviceResultCode, LinkResultCode, Tts, UserApiToken,
    };
    const LINKED_TOKEN: &str = "publisher-made-token-for-hong-7731";
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let emulator = Emulator::builder()
        .edition(Edition::Full)
        .trust_certificate_pem(certified.cert.pem().as_bytes())
        .unwrap()
        // The site's result callback listens on a free port, not 443.
        .dangerous_allow_any_callback_port()
        .start()
        .await
        .unwrap();
    emulator.add_play(PLAY);
    let client = emulator
        .client_builder()
        // The site's port is not 443: lifted for this local host only.
        .dangerous_allow_http_callback_hosts(["localhost"])
        .build()
        .unwrap();
    let (port, mut confirmations, mut results) =
        serve_publisher_site(&certified, LINKED_TOKEN).await;
    emulator.set_auth_url(format!("https://localhost:{port}/nugu/auth"));

    // 1. invite; 2. the user logs in to NUGU, which sends their browser to the publisher's
    // page: 3. the page answers with the form, which the browser submits to NUGU's callBack.
    let email = "hong.gd@example.com";
    invite_and_accept(&emulator, Invitee::new(email, "홍길동", "01011112222")).await;
    let browser = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap(),
        )
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser
        .get(emulator.link_url(email).unwrap())
        .header("cookie", format!("session={email}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    let form = common::browser::read_form(&html);
    assert!(common::browser::script_allowed(&csp, &form), "{csp}");
    assert_eq!(form.method, "post");
    assert!(
        form.action
            .starts_with(&format!("{}/emulator/link/callback?", emulator.base_url())),
        "{}",
        form.action
    );
    let posted = browser
        .post(&form.action)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    // The user finishes the invitation on NUGU's side; NUGU confirms the token.
    let user_id = emulator.finish_link(email).await.unwrap();
    let wait = std::time::Duration::from_secs(10);
    let confirmation = tokio::time::timeout(wait, confirmations.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(confirmation.result_code, LinkResultCode::Ok);
    assert_eq!(confirmation.user_api_token.expose(), LINKED_TOKEN);
    let detail = client.user(&user_id).await.unwrap();
    assert_eq!(detail.token.unwrap().expose(), LINKED_TOKEN);

    // 4. The user's speaker sends a request: the handler sees the linked token and SERVICE.
    let profile = emulator.private_play_profile(email, PLAY, DEVICE).unwrap();
    let record = Arc::new(Mutex::new(Vec::new()));
    let proxy = serve_proxy(record.clone()).await;
    let response = send_as_nugu(proxy, API_KEY, nugu_request(profile)).await;
    assert_eq!(response.status(), 200);
    let seen = record.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].user_token.as_deref(), Some(LINKED_TOKEN));
    assert_eq!(seen[0].service_type.as_deref(), Some("SERVICE"));
    assert_eq!(seen[0].email, email);

    // 5. Announce to that user with the token; 6. the result arrives at the publisher.
    emulator
        .add_device(
            email,
            DEVICE,
            nugu_proxy::biz::emulator::DeviceState::Connected,
        )
        .unwrap();
    let reminder = Announcement::new(PLAY).tts(Tts::new("홍길동님, 9시 체크인을 잊지 마세요"));
    client
        .announce_to_user(
            &UserApiToken::new(LINKED_TOKEN),
            &reminder,
            Some(&format!("https://localhost:{port}/nugu/announced/9e2a")),
        )
        .await
        .unwrap();
    let result = tokio::time::timeout(wait, results.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(result.result_code, AnnouncementResultCode::Ok);
    assert_eq!(result.id.as_ref(), Some(&user_id));
    assert_eq!(result.email.unwrap().expose(), email);
    assert_eq!(result.device_results[0].code, DeviceResultCode::Ok);
    assert_eq!(emulator.heard(DEVICE), [reminder]);
}

/// Issue 21 item 6: NUGU's request from a speaker of a Biz-dedicated device group carries
/// `deviceUniqueId`, `userKey` and `deviceKey` only; over HTTPS through the layer the handler
/// gets that `PrivatePlay` and no enrolled user.
#[tokio::test]
async fn a_biz_dedicated_device_reaches_the_handler_without_an_enrolled_user() {
    let emulator = Emulator::start().await.unwrap();
    emulator.add_play(PLAY);
    emulator.add_shared_device_group("Lobby", &[("NU200_SHARED1", DeviceState::Connected)]);
    let profile = emulator
        .dedicated_device_profile(PLAY, "NU200_SHARED1")
        .unwrap();
    let mut keys: Vec<&str> = profile
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["deviceKey", "deviceUniqueId", "userKey"],
        "{profile}"
    );
    assert_eq!(profile["deviceUniqueId"], "NU200_SHARED1");
    let typed = emulator
        .dedicated_private_play(PLAY, "NU200_SHARED1")
        .unwrap();
    assert!(typed.enrolled_user().is_none());
    assert_eq!(typed.device_key(), profile["deviceKey"]);
    // Stable per device, and not a user's key.
    let again = emulator
        .dedicated_device_profile(PLAY, "NU200_SHARED1")
        .unwrap();
    assert_eq!(again, profile);
    assert_eq!(
        emulator.dedicated_device_profile(PLAY, "NU200_UNKNOWN"),
        Err(EmulatorError::UnknownDevice)
    );
    assert_eq!(
        emulator.dedicated_device_profile("com.example.other", "NU200_SHARED1"),
        Err(EmulatorError::NotEntitled)
    );

    let record = Arc::new(Mutex::new(Vec::new()));
    let proxy = serve_proxy(record.clone()).await;
    let response = send_as_nugu(proxy, API_KEY, nugu_request(profile.clone())).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["resultCode"], "NOT_ENROLLED", "{answer}");
    assert_eq!(answer["output"]["deviceKey"], profile["deviceKey"]);
    assert!(record.lock().unwrap().is_empty());
}

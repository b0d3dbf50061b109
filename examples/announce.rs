//! Links a Biz user's account, then sends them a check-in reminder on their speaker and prints
//! the result NUGU posts back.
//!
//! ```sh
//! # Against a local emulator of the Biz API (the default): the whole full-edition loop.
//! cargo run --example announce --features biz-emulator
//! # Against the real API, for a user you linked before (the result goes to your callBack):
//! NUGU_PUBLISHER_TOKEN=... NUGU_USER_API_TOKEN=... cargo run --example announce \
//!     --features biz-emulator -- --real --play com.example.attendance \
//!     --callback https://example.com/nugu/announced/1b8e44
//! ```
//!
//! The publisher's side runs on axum: the authentication page NUGU sends the user's browser to
//! (`LinkPolicy` reads the request, `for_signed_in_user` binds it to the user signed in to the
//! site, `LinkConfirmations` issues a one-use `confirmUrl`, `browser_page` answers the browser
//! with a form that posts the token to NUGU's `callBack`), the confirmation service, and a
//! `CallbackService` for the announcement result. Against the emulator they are served over
//! plain http on 127.0.0.1, which the `dangerous_...` options allow for that host only, and the
//! example plays the user's browser; in production they sit behind your HTTPS site, and the
//! policy lists NUGU's `callBack` host (a refused request names the host it carried).

use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use nugu_proxy::biz::emulator::{DeviceState, Edition, Emulator};
use nugu_proxy::biz::{
    Announcement, BizClient, CallbackService, ConfirmedLink, Display, DisplayType,
    InvitationReason, InvitationRequest, InvitationTarget, Invitee, LinkConfirmations, LinkError,
    LinkPolicy, PublisherToken, Tts, UserAnnouncementResult, UserApiToken,
};
use tokio::sync::mpsc;

const PLAY: &str = "com.example.attendance";
const EMAIL: &str = "hong.gd@example.com";
const SPEAKER: &str = "NU200_000042";

fn reminder(play: &str) -> Announcement {
    Announcement::new(play)
        .tts(Tts::new("홍길동님, 오전 9시 체크인을 잊지 마세요.").speed(95))
        .display(
            Display::new(
                DisplayType::FullText1,
                "체크인 알림",
                "오늘의 체크인",
                "9시까지 체크인해 주세요",
            )
            .grammar_guide(["체크인 해줘"]),
        )
}

fn print_result(result: &UserAnnouncementResult) {
    let devices: Vec<&str> = result
        .device_results
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    println!(
        "announcement result: {} (devices: {})",
        result.result_code.as_str(),
        devices.join(", ")
    );
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = if args.iter().any(|a| a == "--real") {
        real(&args).await
    } else {
        against_the_emulator().await
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

type Error = Box<dyn std::error::Error>;

fn value(args: &[String], name: &str) -> Option<String> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).cloned()
}

/// One announcement to a user linked before, through the real API.
async fn real(args: &[String]) -> Result<(), Error> {
    let env = |name: &str| std::env::var(name).map_err(|_| format!("set {name}"));
    let client = BizClient::new(PublisherToken::new(env("NUGU_PUBLISHER_TOKEN")?))?;
    let token = UserApiToken::new(env("NUGU_USER_API_TOKEN")?);
    let play = value(args, "--play").ok_or("--play ID is required")?;
    let callback = value(args, "--callback");
    client
        .announce_to_user(&token, &reminder(&play), callback.as_deref())
        .await?;
    println!("sent; NUGU posts the result to the callBack, if given");
    Ok(())
}

/// The session cookie of the stand-in login: a real site reads its own session here.
fn signed_in_user(headers: &http::HeaderMap) -> Option<String> {
    let cookies = headers.get(http::header::COOKIE)?.to_str().ok()?;
    cookies
        .split(';')
        .find_map(|c| c.trim().strip_prefix("session="))
        .map(str::to_owned)
}

/// The authentication page: the signed-in user's link, answered to their browser.
fn link_page(
    policy: &LinkPolicy,
    confirmations: &LinkConfirmations,
    headers: &http::HeaderMap,
    uri: &http::Uri,
) -> Result<http::Response<String>, LinkError> {
    let auth = policy.parse_uri(uri)?;
    // Not signed in: a real site sends the browser to its login, then back to this same URL.
    let signed_in = signed_in_user(headers).ok_or(LinkError::NotTheSignedInUser)?;
    // Refuses a link forwarded to someone else: the invited email must be the signed-in one.
    let link = auth.for_signed_in_user(&signed_in)?;
    // A real site makes (and stores) one token per email here.
    let token = UserApiToken::new("token-made-by-the-publisher-0001");
    let confirm_url = confirmations.issue(&link, &token)?;
    link.browser_page(&token, Some(&confirm_url))
}

/// The publisher's site: the authentication page and the two callbacks.
async fn publisher_site() -> Result<
    (
        String,
        mpsc::UnboundedReceiver<ConfirmedLink>,
        mpsc::UnboundedReceiver<UserAnnouncementResult>,
    ),
    Error,
> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    // Only the emulator's callBack on 127.0.0.1 may be plain http on any port; in production:
    // LinkPolicy::new([NUGU's callBack host]) and LinkConfirmations::new("https://...").
    let policy = LinkPolicy::new(["nugu-callback-host.example"])
        .dangerous_allow_http_callback_hosts(["127.0.0.1"]);
    let confirmations = LinkConfirmations::builder(&format!("{base}/nugu/confirm/"))
        .dangerous_allow_http()
        .build()?;
    let auth_page = {
        let confirmations = confirmations.clone();
        move |headers: http::HeaderMap, uri: http::Uri| {
            let answer = link_page(&policy, &confirmations, &headers, &uri);
            async move {
                answer.unwrap_or_else(|err| {
                    let mut refused = http::Response::new(err.to_string());
                    *refused.status_mut() = err.status();
                    refused
                })
            }
        }
    };
    let (confirmed, confirmations_received) = mpsc::unbounded_channel();
    let (announced, results) = mpsc::unbounded_channel();
    let site = Router::new()
        .route("/nugu/auth", axum::routing::get(auth_page))
        .route_service(
            "/nugu/confirm/{nonce}",
            confirmations.service(move |c: ConfirmedLink| {
                let _ = confirmed.send(c);
                async {}
            }),
        )
        .route_service(
            "/nugu/announced/1b8e44",
            CallbackService::new(move |r: UserAnnouncementResult| {
                let _ = announced.send(r);
                async {}
            }),
        );
    tokio::spawn(async move { axum::serve(listener, site).await });
    Ok((base, confirmations_received, results))
}

/// The user's browser, as the emulator's NUGU sends it: opens the authentication page signed
/// in as `email`, and submits the page's form to NUGU's `callBack`.
async fn browse_link(nugu_url: &str, email: &str) -> Result<(), Error> {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let page = browser
        .get(nugu_url)
        .header("cookie", format!("session={email}"))
        .send()
        .await?;
    if !page.status().is_success() {
        return Err(format!("the authentication page answered {}", page.status()).into());
    }
    let html = page.text().await?;
    let action = html
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no form on the page")?
        .replace("&amp;", "&");
    browser.post(action).send().await?.error_for_status()?;
    Ok(())
}

async fn against_the_emulator() -> Result<(), Error> {
    // The local site listens on a free port; NUGU itself calls back on 80 and 443 only.
    let emulator = Emulator::builder()
        .edition(Edition::Full)
        .dangerous_allow_any_callback_port()
        .start()
        .await?;
    emulator.add_play(PLAY);
    println!("Biz API emulator at {}", emulator.base_url());
    let client = emulator
        .client_builder()
        // The local site's callbacks: plain http on 127.0.0.1, on a port other than 443.
        .dangerous_allow_http_callback_hosts(["127.0.0.1"])
        .build()?;
    let (site, mut confirmations, mut results) = publisher_site().await?;
    emulator.set_auth_url(format!("{site}/nugu/auth"));

    client
        .invite(&InvitationRequest::new(
            InvitationTarget::Plays(vec![PLAY.into()]),
            vec![Invitee::new(EMAIL, "홍길동", "01011112222")],
            InvitationReason::new("출퇴근 체크인 알림")?,
        ))
        .await?;
    println!("invited; the user logs in to NUGU and links their account in the browser...");
    browse_link(&emulator.link_url(EMAIL)?, EMAIL).await?;
    emulator.finish_link(EMAIL).await?;
    let wait = Duration::from_secs(10);
    let confirmed = tokio::time::timeout(wait, confirmations.recv())
        .await?
        .ok_or("the site stopped")?;
    println!(
        "link confirmed: {}",
        confirmed.confirmation.result_code.as_str()
    );

    emulator.add_device(EMAIL, SPEAKER, DeviceState::Connected)?;
    client
        .announce_to_user(
            &confirmed.confirmation.user_api_token,
            &reminder(PLAY),
            Some(&format!("{site}/nugu/announced/1b8e44")),
        )
        .await?;
    let result = tokio::time::timeout(wait, results.recv())
        .await?
        .ok_or("the site stopped")?;
    print_result(&result);
    for heard in emulator.heard(SPEAKER) {
        if let Some(tts) = heard.tts {
            println!("{SPEAKER} said: {}", tts.text);
        }
    }
    Ok(())
}

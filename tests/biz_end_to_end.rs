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
use nugu_proxy::biz::emulator::{Edition, Emulator};
use nugu_proxy::biz::{GroupRequest, InvitationRequest, InvitationTarget, Invitee};
use nugu_proxy::layer::ApiKey;
use nugu_proxy::server::{Server, TlsConfig};
use nugu_proxy::{ActionRequest, ActionResponse, EnrolledUser, PrivatePlay, PrivatePlayLayer};
use serde_json::{json, Value};

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
        name: user.name().to_owned(),
        phone_no: user.phone_no().to_owned(),
        email: user.email().to_owned(),
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
                    ActionResponse::from_request(action).output("userName", user.name())
                }
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
        .invite(
            &InvitationRequest::new(InvitationTarget::Group(group.id), vec![invitee])
                .reason("출퇴근 체크 Private Play"),
        )
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
        let expected = Seen {
            name: "홍길동".into(),
            phone_no: "01011112222".into(),
            email: email.into(),
            tag: Some("율도국-001".into()),
            user_token: if full {
                Some(detail.token.as_ref().unwrap().expose().to_owned())
            } else {
                None
            },
            service_type: full.then(|| "SERVICE".to_owned()),
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

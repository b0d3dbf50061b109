//! The whole invitation loop on one machine: the Biz client invites a user through the
//! emulator, the user accepts, and a NUGU request built from the emulator's profile reaches a
//! proxy using `PrivatePlayLayer` over HTTPS, whose handler sees exactly that enrolled user.
//!
//! The proxy is served here with tokio-rustls and hyper-util, inserting the `ConnectionInfo`
//! the layer requires as proof of HTTPS, as any server of one's own must.
#![cfg(feature = "biz-emulator")]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use nugu_proxy::biz::emulator::{Edition, Emulator};
use nugu_proxy::biz::{GroupRequest, InvitationRequest, InvitationTarget, Invitee};
use nugu_proxy::layer::ApiKey;
use nugu_proxy::transport::{ConnectionInfo, TlsInfo, TlsVersion, Transport};
use nugu_proxy::{ActionRequest, ActionResponse, EnrolledUser, PrivatePlay, PrivatePlayLayer};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_rustls::rustls::{self, pki_types};
use tokio_rustls::TlsAcceptor;

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

/// A TLS proxy on 127.0.0.1 for `localhost`: `PrivatePlayLayer` in front of a handler that
/// records the enrolled user. Answers the address and the certificate to trust.
async fn serve_proxy(
    record: Arc<Mutex<Vec<Seen>>>,
) -> (SocketAddr, pki_types::CertificateDer<'static>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = pki_types::PrivateKeyDer::Pkcs8(pki_types::PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));

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
    let layered = tower::ServiceBuilder::new()
        .layer(PrivatePlayLayer::new(ApiKey::new(API_KEY).unwrap()))
        .service_fn(handler);

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let layered = layered.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let session = tls.get_ref().1;
                let version = match session.protocol_version() {
                    Some(rustls::ProtocolVersion::TLSv1_2) => TlsVersion::Tls12,
                    _ => TlsVersion::Tls13,
                };
                let info = ConnectionInfo::new(
                    peer,
                    Transport::Tls(TlsInfo::new(
                        version,
                        session.alpn_protocol().map(<[u8]>::to_vec),
                        session.server_name().map(str::to_owned),
                    )),
                );
                let service = tower::ServiceBuilder::new()
                    .map_request(move |mut req: Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(info.clone());
                        req
                    })
                    .service(layered);
                hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), TowerToHyperService::new(service))
                    .await
                    .ok();
            });
        }
    });
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
    (addr, cert): (SocketAddr, pki_types::CertificateDer<'static>),
    api_key: &str,
    body: String,
) -> reqwest::Response {
    reqwest::Client::builder()
        .https_only(true)
        .add_root_certificate(reqwest::Certificate::from_der(&cert).unwrap())
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

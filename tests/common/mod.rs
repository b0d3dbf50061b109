//! Shared by the integration tests: fixtures, and a handler that reports what it saw.
#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use nugu_proxy::layer::Authentication;
use nugu_proxy::transport::ConnectionInfo;
use nugu_proxy::{ActionRequest, EnrolledUser, PrivatePlay, StandInUser};
use serde_json::{json, Value};

#[cfg(feature = "server")]
pub mod https;
#[cfg(feature = "acme")]
pub mod pebble;

#[cfg(feature = "biz")]
pub mod browser;

/// How long a test waits for what must happen (an answer, a close, a handshake) before it
/// fails: long enough for a loaded 2-core machine. A bound on hangs, never a performance claim;
/// a test that passes waits only as long as the server takes.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

pub const API_KEY: &str = "test-nugu-api-key-0123456789";

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fixtures of every request shape that must be accepted (`nugu_docs/...`,
/// `tolerance/...`), by name for [`fixture`].
pub fn accepted_shapes() -> Vec<String> {
    let mut names = Vec::new();
    for dir in ["nugu_docs", "tolerance"] {
        let path = format!("{}/tests/fixtures/{dir}", env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(&path).unwrap_or_else(|e| panic!("{path}: {e}")) {
            let file = entry.unwrap().file_name().into_string().unwrap();
            if let Some(name) = file.strip_suffix(".json") {
                names.push(format!("{dir}/{name}"));
            }
        }
    }
    names.sort();
    names
}

/// The proof of HTTPS the crate's server would attach (the testing kit's).
pub fn tls_info() -> ConnectionInfo {
    nugu_proxy::testing::dangerous_test_transport()
}

/// A NUGU-style POST over "HTTPS" with the right key, for a service called in process (it
/// carries the transport proof; over the network, see `https::nugu_post`).
pub fn nugu_post(path: &str) -> http::request::Builder {
    Request::post(path)
        .header("content-type", "application/json")
        .header("authorization", format!("token {API_KEY}"))
        .extension(tls_info())
}

pub fn post(path: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    nugu_post(path).body(Full::new(body.into())).unwrap()
}

/// A handler that answers with a JSON report of the extensions and body it received, and
/// counts its calls.
#[derive(Clone, Default)]
pub struct Reporter {
    pub calls: Arc<AtomicUsize>,
}

impl Reporter {
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub async fn handle(
        self,
        req: Request<Full<Bytes>>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let ext = req.extensions();
        let action = ext.get::<ActionRequest>();
        let user = ext.get::<EnrolledUser>();
        let report = json!({
            "method": req.method().as_str(),
            "actionName": action.map(|a| a.action_name()),
            "actionHasProfile": action.map(|a| a.private_play().is_some()),
            "authentication": ext.get::<Authentication>().map(|a| format!("{a:?}")),
            "privatePlay": ext.get::<PrivatePlay>().map(|p| p.user_key().to_owned()),
            "standIn": ext.get::<StandInUser>().map(StandInUser::name),
            "enrolledUser": user.map(|u| json!({
                "name": u.name(), "phoneNo": u.phone_no(), "email": u.email(),
                "tag": u.tag(), "userToken": u.user_token(),
                "serviceType": u.service_type().map(|s| s.as_str().to_owned()),
            })),
        });
        let body = req.into_body().collect().await.unwrap().to_bytes();
        let report = json!({ "seen": report, "body": String::from_utf8_lossy(&body) });
        Ok(Response::new(Full::new(Bytes::from(report.to_string()))))
    }
}

/// Status and JSON body of a response.
pub async fn read<B>(response: Response<B>) -> (u16, http::HeaderMap, Value)
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (status, headers, json)
}

/// A rustls client (ring) that trusts exactly `trusted`, offers `alpn`, and never resumes a
/// session, so every connection shows the certificate the server presents now.
#[cfg(feature = "server")]
pub fn client_config(
    trusted: &[&rustls::pki_types::CertificateDer<'static>],
    alpn: &[&[u8]],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in trusted {
        roots.add((*cert).clone()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config.resumption = rustls::client::Resumption::disabled();
    Arc::new(config)
}

/// A server of the crate's running on 127.0.0.1 (port 0) in a task, until `shut_down`.
#[cfg(feature = "server")]
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<()>,
}

#[cfg(feature = "server")]
impl Running {
    pub async fn shut_down(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(std::time::Duration::from_secs(10), self.task)
            .await
            .expect("the server shut down")
            .expect("the server task did not panic");
    }
}

/// Binds `builder` to 127.0.0.1 (a free port) and serves `service` until `shut_down`.
#[cfg(feature = "server")]
pub async fn start(
    builder: nugu_proxy::server::ServerBuilder,
    service: impl nugu_proxy::server::ProxyService,
) -> Running {
    let server = builder.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_with_shutdown(service, async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

//! The peers of the end-to-end load bench (`scripts/bench`), on bare hyper 1 + tokio-rustls with
//! the rustls build and ring provider the crate uses, a self-signed certificate and ALPN `h2` +
//! `http/1.1` (hyper's HTTP/1.1 or HTTP/2 connection chosen by ALPN). Nothing the crate adds: no
//! timeouts, no limits, no connection bookkeeping.
//!
//! - `fixed`: reads the request body and answers the fixed JSON body `bench_server plain`
//!   answers: the ceiling.
//! - `axum`: an axum 0.8 `Router` served on the same connections, with what a play developer
//!   writes by hand: the API key compared, `Json<serde_json::Value>`, JSON pointer reads of the
//!   enrolled user and the parameters echoed in `output`.
//! - `serde`: the quick prototype of issue #15, a `service_fn` on the same connections: the
//!   API key compared, the body collected and deserialized by serde_json into borrowed structs
//!   of only the fields the answer needs (everything else skipped), the parameters echoed and
//!   the answer serialized by serde_json. No limits, no typed model, no extensions: how far a
//!   minimal hand-written parse and answer get on the bare serving.
//!
//! ```sh
//! cargo run --release --example bench_bare -- fixed 127.0.0.1:9445
//! cargo run --release --example bench_bare -- axum 127.0.0.1:9446
//! cargo run --release --example bench_bare -- serde 127.0.0.1:9447
//! ```
//!
//! It prints `ready <pid>` once listening and serves until killed. With `NUGU_BENCH_STATS=1` it
//! also prints, each second something changed, the connections accepted and how many TLS
//! handshakes were full or resumed (to check what a load generator does). The TLS session
//! resumption is the crate's (stateless tickets); `NUGU_BENCH_RESUMPTION=cache` (rustls's
//! default stateful cache) or `off` changes it, to measure what it is worth.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::NoServerSessionStorage;
use rustls::{HandshakeKind, ServerConfig};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The API key the wrk script and h2load send.
const AUTHORIZATION: &[u8] = b"token bench-api-key";

/// What `bench_server plain` answers.
const FIXED_BODY: &[u8] =
    br#"{"version":"2.0","resultCode":"OK","output":{"userName":"x","checkInTime":"09:00"}}"#;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "fixed".into());
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9445".into());
    let acceptor = TlsAcceptor::from(Arc::new(tls_config()?));
    let listener = TcpListener::bind(&addr).await?;
    let stats = std::env::var_os("NUGU_BENCH_STATS").map(|_| Stats::start());
    println!("ready {}", std::process::id());
    match mode.as_str() {
        "fixed" => serve(listener, acceptor, stats, service_fn(fixed)).await,
        "axum" => {
            let router = Router::new().route("/check_in", post(check_in));
            serve(listener, acceptor, stats, TowerToHyperService::new(router)).await
        }
        "serde" => serve(listener, acceptor, stats, service_fn(prototype)).await,
        other => Err(format!("unknown mode {other:?}: fixed, axum or serde").into()),
    }
}

/// The crate's TLS setup (`src/server/tls.rs`): ring, TLS 1.3 and 1.2, ALPN `h2` then
/// `http/1.1`, and the same session resumption.
fn tls_config() -> Result<ServerConfig, BoxError> {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])?;
    let key = PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(cert.cert.der().to_vec())], key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // The crate's resumption is stateless tickets; the others measure what it is worth to a
    // client that reconnects (`cache`: rustls's default, a stateful cache of 256 sessions).
    match std::env::var("NUGU_BENCH_RESUMPTION").as_deref() {
        Err(_) | Ok("tickets") => config.ticketer = rustls::crypto::ring::Ticketer::new()?,
        Ok("cache") => {}
        Ok("off") => {
            config.session_storage = Arc::new(NoServerSessionStorage {});
            config.send_tls13_tickets = 0;
        }
        Ok(other) => {
            return Err(format!("NUGU_BENCH_RESUMPTION={other:?}: cache, tickets or off").into())
        }
    }
    Ok(config)
}

/// Accepts forever: one task per connection, HTTP/2 if the client chose `h2`, else HTTP/1.1.
async fn serve<S, B>(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    stats: Option<Arc<Stats>>,
    service: S,
) -> Result<(), BoxError>
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    loop {
        let (tcp, _) = listener.accept().await?;
        let (acceptor, stats, service) = (acceptor.clone(), stats.clone(), service.clone());
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let session = tls.get_ref().1;
            if let Some(stats) = &stats {
                stats.count(session.handshake_kind());
            }
            let h2 = session.alpn_protocol() == Some(b"h2");
            let io = TokioIo::new(tls);
            let _ = if h2 {
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(io, service)
                    .await
            } else {
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await
            };
        });
    }
}

/// The ceiling: read the body, answer a fixed JSON body.
async fn fixed(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    req.into_body().collect().await?;
    let mut response = Response::new(Full::new(Bytes::from_static(FIXED_BODY)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// A check-in handler as written by hand with axum: the key, the parsed `Value`, pointer reads.
async fn check_in(headers: HeaderMap, Json(body): Json<Value>) -> axum::response::Response {
    if headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes)
        != Some(AUTHORIZATION)
    {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let user = body.pointer("/profile/privatePlay/enrolledUser");
    let Some(name) = user
        .and_then(|u| u.pointer("/name"))
        .and_then(Value::as_str)
    else {
        return Json(json!({"version": "2.0", "resultCode": "NOT_ENROLLED", "output": {}}))
            .into_response();
    };
    let mut output = Map::new();
    if let Some(parameters) = body
        .pointer("/action/parameters")
        .and_then(Value::as_object)
    {
        for (name, parameter) in parameters {
            let value = parameter.pointer("/value").cloned().unwrap_or(Value::Null);
            output.insert(name.clone(), value);
        }
    }
    output.insert("userName".into(), name.into());
    output.insert("checkInTime".into(), "09:00".into());
    Json(json!({"version": "2.0", "resultCode": "OK", "output": output})).into_response()
}

/// The body as the prototype reads it: borrowed where the JSON has no escapes, every other
/// member skipped.
#[derive(Deserialize)]
struct PrototypeBody<'a> {
    #[serde(borrow)]
    action: PrototypeAction<'a>,
    #[serde(borrow, default)]
    profile: Option<PrototypeProfile<'a>>,
}

#[derive(Deserialize)]
struct PrototypeAction<'a> {
    #[serde(rename = "actionName", borrow)]
    action_name: Cow<'a, str>,
    #[serde(borrow, default)]
    parameters: PrototypeParameters<'a>,
}

/// `parameters`, an object, read as its (name, parameter) pairs in order.
#[derive(Default)]
struct PrototypeParameters<'a>(Vec<(Cow<'a, str>, PrototypeParameter<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for PrototypeParameters<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Pairs<'a> {
            type Value = PrototypeParameters<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of parameters")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(pair) = map.next_entry::<Text<'de>, PrototypeParameter<'de>>()? {
                    pairs.push((pair.0 .0, pair.1));
                }
                Ok(PrototypeParameters(pairs))
            }
        }
        deserializer.deserialize_map(Pairs(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct PrototypeParameter<'a> {
    #[serde(borrow, default)]
    value: Option<Text<'a>>,
}

/// A string borrowed from the body unless it has escapes (serde's own `Cow<str>` borrows only
/// as a field marked `borrow`, not inside an `Option` or as a map key).
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(Visit(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct PrototypeProfile<'a> {
    #[serde(rename = "privatePlay", borrow, default)]
    private_play: Option<PrototypePrivatePlay<'a>>,
}

#[derive(Deserialize)]
struct PrototypePrivatePlay<'a> {
    #[serde(rename = "enrolledUser", borrow, default)]
    enrolled_user: Option<PrototypeUser<'a>>,
}

#[derive(Deserialize)]
struct PrototypeUser<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

/// The answer: `output` echoes every parameter, then the handler's two.
#[derive(Serialize)]
struct PrototypeAnswer<'a> {
    version: &'static str,
    #[serde(rename = "resultCode")]
    result_code: &'static str,
    #[serde(serialize_with = "serialize_pairs")]
    output: Vec<(&'a str, Option<&'a str>)>,
}

fn serialize_pairs<S: serde::Serializer>(
    pairs: &[(&str, Option<&str>)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(pairs.iter().copied())
}

/// The issue's quick prototype: key, borrowed serde parse, echo, serde answer.
async fn prototype(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (head, body) = req.into_parts();
    let authorized = head
        .headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes)
        == Some(AUTHORIZATION);
    let path_action = head.uri.path().rsplit('/').next().unwrap_or_default();
    let bytes = body.collect().await?.to_bytes();
    let status = |code: StatusCode| {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = code;
        Ok(response)
    };
    if !authorized {
        return status(StatusCode::UNAUTHORIZED);
    }
    let Ok(body) = serde_json::from_slice::<PrototypeBody>(&bytes) else {
        return status(StatusCode::BAD_REQUEST);
    };
    if body.action.action_name != path_action {
        return status(StatusCode::NOT_FOUND);
    }
    let user = body
        .profile
        .as_ref()
        .and_then(|p| p.private_play.as_ref())
        .and_then(|p| p.enrolled_user.as_ref());
    let answer = match user {
        Some(user) => {
            let mut output: Vec<_> = body
                .action
                .parameters
                .0
                .iter()
                .filter(|(name, _)| name != "userName" && name != "checkInTime")
                .map(|(name, p)| (name.as_ref(), p.value.as_ref().map(|v| v.0.as_ref())))
                .collect();
            output.push(("userName", Some(user.name.as_ref())));
            output.push(("checkInTime", Some("09:00")));
            PrototypeAnswer {
                version: "2.0",
                result_code: "OK",
                output,
            }
        }
        None => PrototypeAnswer {
            version: "2.0",
            result_code: "NOT_ENROLLED",
            output: vec![],
        },
    };
    let Ok(json) = serde_json::to_vec(&answer) else {
        return status(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let mut response = Response::new(Full::new(Bytes::from(json)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Connections and TLS handshakes, counted only with `NUGU_BENCH_STATS`.
#[derive(Default)]
struct Stats {
    full: AtomicU64,
    resumed: AtomicU64,
}

impl Stats {
    fn start() -> Arc<Self> {
        let stats = Arc::new(Self::default());
        let printed = stats.clone();
        tokio::spawn(async move {
            let mut last = (0, 0);
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let now = (printed.full.load(Relaxed), printed.resumed.load(Relaxed));
                if now != last {
                    eprintln!("handshakes full {} resumed {}", now.0, now.1);
                    last = now;
                }
            }
        });
        stats
    }

    fn count(&self, kind: Option<HandshakeKind>) {
        match kind {
            Some(HandshakeKind::Resumed) => &self.resumed,
            _ => &self.full,
        }
        .fetch_add(1, Relaxed);
    }
}

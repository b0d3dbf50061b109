//! The real server on 127.0.0.1 (rcgen certificate, rustls), a NUGU play behind
//! `PrivatePlayLayer`, and clients that speak well-formed HTTP (hyper) or raw bytes over TLS.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use nugu_proxy::layer::ApiKey;
use nugu_proxy::server::{ProxyService, Server, ServerBuilder};
use nugu_proxy::{ActionRequest, ActionResponse, EnrolledUser, PrivatePlayLayer};
use rustls::pki_types::CertificateDer;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

pub use crate::common::{start, Running};
use tower::ServiceBuilder;

pub use crate::common::https::{
    cert_for_localhost as cert, h1_client, h2_client, nugu_post, Sender, TestCert,
};
pub use crate::common::{client_config, fixture, API_KEY, PATIENCE};

/// The action whose handler panics, with personal data in the panic message.
pub const PANIC_ACTION: &str = "explode";

/// Counts what the play's handler saw.
#[derive(Clone, Default)]
pub struct Calls(pub Arc<AtomicUsize>);

impl Calls {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// The README's play: `PrivatePlayLayer` with the API key in front of a check-in handler that
/// reads the typed enrolled user. Action `explode` panics with the user's name and phone number
/// in the message.
pub fn play(calls: &Calls) -> impl ProxyService {
    let calls = calls.clone();
    ServiceBuilder::new()
        .layer(PrivatePlayLayer::new(ApiKey::new(API_KEY).unwrap()))
        .service_fn(move |req: Request<Full<Bytes>>| {
            calls.0.fetch_add(1, Ordering::SeqCst);
            async move {
                let action = req.extensions().get::<ActionRequest>();
                let user = req.extensions().get::<EnrolledUser>();
                let response = match (action, user) {
                    (Some(action), Some(user)) if action.action_name() == PANIC_ACTION => {
                        panic!(
                            "handler bug while serving {} {}",
                            user.name(),
                            user.phone_no()
                        )
                    }
                    (Some(action), Some(user)) => ActionResponse::from_request(action)
                        .output("userName", user.name())
                        .into_http(),
                    (Some(action), None) => ActionResponse::from_request(action)
                        .exception("NOT_ENROLLED")
                        .into_http(),
                    (None, _) => Response::builder()
                        .status(StatusCode::METHOD_NOT_ALLOWED)
                        .body(Full::new(Bytes::new()))
                        .unwrap(),
                };
                Ok::<_, Infallible>(response)
            }
        })
}

/// The public URL every test server is given: NUGU calls `POST /nugu/{actionName}`.
pub fn builder(cert: &TestCert) -> ServerBuilder {
    Server::builder()
        .tls(cert.tls())
        .public_url("https://localhost/nugu".parse().unwrap())
}

/// A TLS connection that trusts `der` and offers `alpn`.
pub async fn tls_connect(
    addr: SocketAddr,
    der: &CertificateDer<'static>,
    alpn: &[&[u8]],
) -> TlsStream<TcpStream> {
    crate::common::https::tls_connect(addr, client_config(&[der], alpn)).await
}

/// Status, headers and body bytes of an answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the exact status and a JSON error body `{"error": code, "message": "..."}`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        let text = String::from_utf8_lossy(&self.body);
        assert_eq!(self.status, status, "wrong status; body: {text}");
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{text}"
        );
        let json: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {text}"));
        assert_eq!(json["error"], code, "{text}");
        assert!(json["message"].is_string(), "no message: {text}");
    }

    /// Asserts a 200 with a NUGU response body.
    #[track_caller]
    pub fn assert_nugu_ok(&self) -> Value {
        let text = String::from_utf8_lossy(&self.body);
        assert_eq!(self.status, 200, "{text}");
        let json: Value = serde_json::from_slice(&self.body).unwrap();
        assert_eq!(json["version"], "2.0", "{text}");
        json
    }
}

/// Sends a request on a hyper client and reads the whole answer.
pub async fn send(sender: &mut Sender, request: Request<Full<Bytes>>) -> Answer {
    tokio::time::timeout(PATIENCE, async {
        sender.ready().await.unwrap();
        let response = sender.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
            .collect();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: body.to_vec(),
        }
    })
    .await
    .expect("the server answered in time")
}

/// The typical Private Play request, for action `check_in`.
pub fn good_body() -> String {
    fixture("private_play_full")
}

/// The good body for another action name.
pub fn body_for_action(action: &str) -> String {
    let mut json: Value = serde_json::from_str(&good_body()).unwrap();
    json["action"]["actionName"] = action.into();
    json.to_string()
}

/// The same server still serves: a good request on a fresh connection gets the handler's answer.
pub async fn assert_still_serving(addr: SocketAddr, der: &CertificateDer<'static>) {
    let mut client = h1_client(addr, der).await;
    let answer = send(&mut client, nugu_post("/nugu/check_in", good_body())).await;
    let json = answer.assert_nugu_ok();
    assert_eq!(json["resultCode"], "OK");
    assert_eq!(json["output"]["userName"], "홍길동");
}

/// Raw request bytes: a head with the right key and `Content-Length`, then `body`.
pub fn raw_post(path: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Authorization: token {API_KEY}\r\nContent-Length: {}\r\n{extra_headers}\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Reads one HTTP/1.1 response from a raw stream (`None` if the server closed the connection
/// first). Bodies are read by `Content-Length`, or to the end of the stream without one.
pub async fn read_answer(stream: &mut (impl AsyncRead + Unpin)) -> Option<Answer> {
    tokio::time::timeout(PATIENCE, read_answer_inner(stream))
        .await
        .expect("the server answered or closed in time")
}

async fn read_answer_inner(stream: &mut (impl AsyncRead + Unpin)) -> Option<Answer> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a status line: {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = buf[head_end..].to_vec();
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    match length {
        Some(length) => {
            while body.len() < length {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => body.extend_from_slice(&chunk[..n]),
                }
            }
            body.truncate(length);
        }
        None => loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        },
    }
    Some(Answer {
        status,
        headers,
        body,
    })
}

/// Writes raw bytes on a fresh TLS connection and reads one answer.
pub async fn raw_exchange(
    addr: SocketAddr,
    der: &CertificateDer<'static>,
    bytes: &[u8],
) -> (Option<Answer>, TlsStream<TcpStream>) {
    let mut stream = tls_connect(addr, der, &[b"http/1.1"]).await;
    // The server may answer and close before reading everything (a refused head): a failed
    // write is then expected, and the answer is what counts.
    let _ = stream.write_all(bytes).await;
    let _ = stream.flush().await;
    let answer = read_answer(&mut stream).await;
    (answer, stream)
}

/// Waits until the peer closes `stream` (at most 5 s, which fails the test).
pub async fn assert_closed(stream: &mut (impl AsyncRead + Unpin)) {
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server kept the connection open");
}

/// Writes to a stream, ignoring a failure (the server may have closed it on purpose).
pub async fn write_quietly(stream: &mut (impl AsyncWrite + Unpin), bytes: &[u8]) -> bool {
    stream.write_all(bytes).await.is_ok() && stream.flush().await.is_ok()
}

//! The real server on 127.0.0.1 (rcgen certificate, rustls), a NUGU play behind
//! `PrivatePlayLayer`, and clients that speak well-formed HTTP (hyper) or raw bytes over TLS.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    cert_for_localhost as cert, h1_client, h2_client, nugu_post, H2Sender, Sender, TestCert,
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
                            "handler bug while serving {:?} {:?}",
                            user.name(),
                            user.phone_no()
                        )
                    }
                    (Some(action), Some(user)) => ActionResponse::from_request(action)
                        .output("userName", user.name().unwrap_or_default())
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
        answer_of(sender.send_request(request).await.unwrap()).await
    })
    .await
    .expect("the server answered in time")
}

/// Sends a request on an HTTP/2 client and reads the whole answer.
pub async fn send_h2(sender: &mut H2Sender, request: Request<Full<Bytes>>) -> Answer {
    tokio::time::timeout(PATIENCE, async {
        answer_of(sender.send_request(request).await.unwrap()).await
    })
    .await
    .expect("the server answered in time")
}

async fn answer_of(response: Response<hyper::body::Incoming>) -> Answer {
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

/// How the server ended a raw HTTP/2 request.
#[derive(Debug, PartialEq, Eq)]
pub enum RawH2 {
    /// A response: its `:status` (from HPACK's static table) and body.
    Answered(u16, Vec<u8>),
    /// `RST_STREAM` with this error code.
    Reset(u32),
}

/// One HTTP/2 request written frame by frame, so that its pseudo-headers go out exactly as
/// given (a client library would normalise or refuse a `:path` such as `../check_in`): the
/// preface, empty `SETTINGS`, then one `HEADERS` frame (`END_STREAM`) of literal fields without
/// HPACK compression. Reads frames until stream 1 is answered or reset.
pub async fn raw_h2_request(
    addr: SocketAddr,
    der: &CertificateDer<'static>,
    fields: &[(&str, &str)],
) -> RawH2 {
    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut bytes = u32::try_from(payload.len()).unwrap().to_be_bytes()[1..].to_vec();
        bytes.extend_from_slice(&[kind, flags]);
        bytes.extend_from_slice(&stream.to_be_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }
    let mut block = Vec::new();
    for (name, value) in fields {
        // "Literal Header Field without Indexing, New Name", 7-bit lengths, no Huffman.
        block.push(0x00);
        block.push(u8::try_from(name.len()).unwrap());
        block.extend_from_slice(name.as_bytes());
        block.push(u8::try_from(value.len()).unwrap());
        block.extend_from_slice(value.as_bytes());
    }
    let mut stream = tls_connect(addr, der, &[b"h2"]).await;
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(frame(0x4, 0, 0, &[]));
    out.extend(frame(0x1, 0x4 | 0x1, 1, &block));
    stream.write_all(&out).await.unwrap();
    tokio::time::timeout(PATIENCE, async {
        let (mut status, mut body) = (0, Vec::new());
        loop {
            let mut head = [0u8; 9];
            stream.read_exact(&mut head).await.unwrap();
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let (kind, flags) = (head[3], head[4]);
            let id = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
            let mut payload = vec![0u8; len];
            stream.read_exact(&mut payload).await.unwrap();
            match (kind, id) {
                (0x4, 0) if flags & 0x1 == 0 => {
                    stream.write_all(&frame(0x4, 0x1, 0, &[])).await.unwrap()
                }
                (0x1, 1) => {
                    // hyper indexes `:status` first; 0x88.. are 200, 204, 206, 304, 400, 404, 500.
                    let index = payload[0] & 0x7f;
                    assert!(payload[0] & 0x80 != 0, "a :status outside the static table");
                    status = [200, 204, 206, 304, 400, 404, 500][usize::from(index - 8)];
                }
                (0x0, 1) => body.extend_from_slice(&payload),
                (0x3, 1) => {
                    return RawH2::Reset(u32::from_be_bytes(payload[..4].try_into().unwrap()))
                }
                (0x7, _) => panic!("GOAWAY: {payload:?}"),
                _ => {}
            }
            if id == 1 && flags & 0x1 != 0 {
                return RawH2::Answered(status, body);
            }
        }
    })
    .await
    .expect("the server answered or reset the stream in time")
}

/// Captures the server's logs (everything runs on the test's one thread).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn capture_logs(level: tracing::Level) -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

/// The summary lines of `reason` in the captured logs, and the sum of their counts.
pub fn summaries(logs: &str, reason: &str) -> (usize, u64) {
    let field = format!("reason=\"{reason}\"");
    let lines: Vec<&str> = logs.lines().filter(|l| l.contains(&field)).collect();
    let total = lines
        .iter()
        .map(|line| {
            let count = line.split("count=").nth(1).expect("a count field");
            count.split(' ').next().unwrap().parse::<u64>().unwrap()
        })
        .sum();
    (lines.len(), total)
}

/// An HTTP/2 client that asks `GET /health` with a stream window of `window` bytes, answers
/// PINGs (h2 does, while the connection task runs) and never reads its response, so never
/// opens its window. Returns once the response head has arrived, with the task driving the
/// connection, which ends when the server closes it.
pub async fn h2_client_that_never_reads(
    addr: SocketAddr,
    der: &CertificateDer<'static>,
    window: u32,
) -> (
    http::Response<h2::RecvStream>,
    tokio::task::JoinHandle<Result<(), h2::Error>>,
) {
    let stream = tls_connect(addr, der, &[b"h2"]).await;
    let (client, connection) = h2::client::Builder::new()
        .initial_window_size(window)
        .handshake::<_, Bytes>(stream)
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let request = Request::get("https://localhost/nugu/health")
        .body(())
        .unwrap();
    let (response, _) = client.send_request(request, true).unwrap();
    let response = tokio::time::timeout(PATIENCE, response)
        .await
        .expect("the response head came (it needs no window)")
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    (response, connection)
}

/// While clients hold connection slots, a fresh connection is served (its health check) within
/// `bound`.
pub async fn assert_served_within(
    addr: SocketAddr,
    der: &CertificateDer<'static>,
    bound: Duration,
) {
    let health = tokio::time::timeout(bound, async {
        let mut client = h1_client(addr, der).await;
        let request = Request::get("/nugu/health")
            .header("host", "localhost")
            .body(Full::default())
            .unwrap();
        send(&mut client, request).await
    })
    .await
    .expect("a client was served while others held the connection slots");
    assert_eq!(health.status, 200);
}

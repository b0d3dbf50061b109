//! Faults: clients that vanish mid-handshake or mid-body, a handler that panics, graceful
//! shutdown under load.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::*;

/// The panics these tests cause on purpose are expected: keep them out of the test output
/// (the standard hook would print their message, personal data included, to stderr).
fn quiet_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let expected = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .is_some_and(|m| m.starts_with("handler bug"));
            if !expected {
                default(info);
            }
        }));
    });
}

const PII: [&str; 3] = ["홍길동", "01011112222", "gilodng@email-domain.com"];

#[tokio::test]
async fn a_panicking_handler_gets_500_and_the_server_lives() {
    quiet_expected_panics();
    let (logs, _guard) = capture_logs(tracing::Level::DEBUG);
    let cert = cert();
    let calls = Calls::default();
    let server = start(builder(&cert), play(&calls)).await;
    let explode = body_for_action(PANIC_ACTION);

    // HTTP/1.1: the panicking request gets 500, and the same connection serves the next one.
    let mut client = h1_client(server.addr, &cert.der).await;
    for _ in 0..3 {
        let answer = send(&mut client, nugu_post("/nugu/explode", explode.clone())).await;
        answer.assert_error(500, "internal_error");
        let body = String::from_utf8_lossy(&answer.body).into_owned();
        assert!(
            !body.contains("handler bug"),
            "the panic message was sent: {body}"
        );
        for pii in PII {
            assert!(!body.contains(pii), "{body}");
        }
        let answer = send(&mut client, nugu_post("/nugu/check_in", good_body())).await;
        assert_eq!(answer.assert_nugu_ok()["resultCode"], "OK");
    }

    // HTTP/2: a panicking stream next to good ones on one connection; only it gets the 500.
    let h2 = h2_client(server.addr, &cert.der).await;
    let mut streams = Vec::new();
    for i in 0..10 {
        let (path, body) = if i % 3 == 0 {
            ("https://localhost/nugu/explode", explode.clone())
        } else {
            ("https://localhost/nugu/check_in", good_body())
        };
        let mut request = nugu_post(path, body);
        request.headers_mut().remove("host");
        let mut h2 = h2.clone();
        streams.push(tokio::spawn(async move {
            let response = h2.send_request(request).await.unwrap();
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (i, status, body)
        }));
    }
    for stream in streams {
        let (i, status, body) = stream.await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        if i % 3 == 0 {
            assert_eq!((status, &json["error"]), (500, &"internal_error".into()));
        } else {
            assert_eq!((status, &json["resultCode"]), (200, &"OK".into()));
        }
    }
    assert_still_serving(server.addr, &cert.der).await;
    server.shut_down().await;

    let logs = logs.text();
    assert!(
        logs.contains("the service panicked on a request; answered 500"),
        "{logs}"
    );
    assert!(!logs.contains("a connection task panicked"), "{logs}");
    assert!(
        !logs.contains("handler bug"),
        "the panic message was logged: {logs}"
    );
    for pii in PII {
        assert!(!logs.contains(pii), "personal data in the logs: {logs}");
    }
}

/// A response body that panics after its first chunk.
struct PanickingBody(u8);

impl http_body::Body for PanickingBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0 += 1;
        if self.0 == 1 {
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"{\"partial\":")))));
        }
        panic!("handler bug in the body of 홍길동")
    }
}

#[tokio::test]
async fn a_response_body_that_panics_ends_only_its_response() {
    quiet_expected_panics();
    let (logs, _guard) = capture_logs(tracing::Level::DEBUG);
    let cert = cert();
    let service = tower::service_fn(|req: Request<Incoming>| async move {
        let response = if req.uri().path() == "/nugu/bad_body" {
            Response::new(PanickingBody(0).boxed_unsync())
        } else {
            Response::new(Full::new(Bytes::from_static(b"fine")).boxed_unsync())
        };
        Ok::<_, Infallible>(response)
    });
    let server = start(builder(&cert).max_connections(2), service).await;
    let get = |path: &str| {
        Request::get(format!("https://localhost{path}"))
            .body(Full::<Bytes>::default())
            .unwrap()
    };

    // HTTP/2: the panicking stream is reset, the other streams of the connection go on.
    let mut h2 = h2_client(server.addr, &cert.der).await;
    for _ in 0..3 {
        // Reset before or after the head reached the client: either way never a clean end.
        if let Ok(response) = h2.send_request(get("/nugu/bad_body")).await {
            assert!(
                response.into_body().collect().await.is_err(),
                "the cut-off body ended cleanly"
            );
        }
        let response = h2.send_request(get("/nugu/ok")).await.unwrap();
        assert_eq!(
            response.into_body().collect().await.unwrap().to_bytes(),
            "fine"
        );
    }

    // HTTP/1.1: the response is cut off and the connection closed; the slot is freed (two
    // connections at most, and five in a row are served).
    for _ in 0..5 {
        let stream = tls_connect(server.addr, &cert.der, &[b"http/1.1"]).await;
        let (mut h1, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        if let Ok(response) = h1.send_request(get("/nugu/bad_body")).await {
            assert!(
                response.into_body().collect().await.is_err(),
                "the cut-off body ended cleanly"
            );
        }
    }
    let stream = tls_connect(server.addr, &cert.der, &[b"http/1.1"]).await;
    let (mut h1, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let response = h1.send_request(get("/nugu/ok")).await.unwrap();
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "fine"
    );
    server.shut_down().await;

    let logs = logs.text();
    assert!(logs.contains("response body panicked"), "{logs}");
    assert!(!logs.contains("a connection task panicked"), "{logs}");
    assert!(!logs.contains("홍길동"), "{logs}");
}

#[tokio::test]
async fn clients_that_vanish_mid_handshake_or_mid_body_leave_no_trace() {
    let cert = cert();
    let calls = Calls::default();
    // Four slots: a connection the server failed to release would soon leave none.
    let server = start(
        builder(&cert)
            .max_connections(4)
            .handshake_timeout(Duration::from_secs(2)),
        play(&calls),
    )
    .await;
    let body = good_body();

    for round in 0..10 {
        // Mid-handshake: the first bytes of a ClientHello, then gone.
        let mut tcp = TcpStream::connect(server.addr).await.unwrap();
        tcp.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc])
            .await
            .unwrap();
        drop(tcp);

        // Not TLS at all, then gone.
        let mut tcp = TcpStream::connect(server.addr).await.unwrap();
        let _ = tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        drop(tcp);

        // Mid-body: the head and half the body, then the TCP connection is dropped.
        let mut stream = tls_connect(server.addr, &cert.der, &[b"http/1.1"]).await;
        let bytes = raw_post("/nugu/check_in", "", body.as_bytes());
        let cut = bytes.len() - body.len() / 2;
        write_quietly(&mut stream, &bytes[..cut]).await;
        drop(stream);

        // Mid-body over HTTP/2: a stream whose body never ends, then the connection is dropped.
        let stream = tls_connect(server.addr, &cert.der, &[b"h2"]).await;
        let (mut h2, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        let conn = tokio::spawn(conn);
        let (mut tx, rx) = futures_channel_body();
        let mut request = Request::post("https://localhost/nugu/check_in")
            .header("content-type", "application/json")
            .header("authorization", format!("token {API_KEY}"))
            .body(rx)
            .unwrap();
        request.headers_mut().remove("host");
        let pending = tokio::spawn(async move { h2.send_request(request).await });
        tx.send(Bytes::from(body[..100].to_owned())).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        conn.abort();
        pending.abort();

        // The server still serves, within its four slots, every round.
        assert_still_serving(server.addr, &cert.der).await;
        assert_eq!(
            calls.get(),
            round + 1,
            "a broken-off request reached the handler"
        );
    }
    server.shut_down().await;
}

/// A request body fed through a channel (a stream of data frames that may never end).
fn futures_channel_body() -> (BodySender, http_body_util::StreamBody<ChannelStream>) {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    (
        BodySender(tx),
        http_body_util::StreamBody::new(ChannelStream(rx)),
    )
}

struct BodySender(tokio::sync::mpsc::Sender<Bytes>);

impl BodySender {
    async fn send(&mut self, bytes: Bytes) {
        let _ = self.0.send(bytes).await;
    }
}

struct ChannelStream(tokio::sync::mpsc::Receiver<Bytes>);

impl futures_util::Stream for ChannelStream {
    type Item = Result<Frame<Bytes>, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_under_load_answers_every_accepted_request() {
    const CLIENTS: usize = 8;
    const H2_CONNECTIONS: usize = 2;
    const H2_STREAMS: usize = 4;
    let cert = cert();
    let started = Arc::new(AtomicUsize::new(0));
    let counter = started.clone();
    // A handler that takes a while, so that many requests are in flight at the signal.
    let service = tower::ServiceBuilder::new()
        .layer(nugu_proxy::PrivatePlayLayer::new(
            nugu_proxy::layer::ApiKey::new(API_KEY).unwrap(),
        ))
        .service_fn(move |req: Request<Full<Bytes>>| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let action = req.extensions().get::<nugu_proxy::ActionRequest>().unwrap();
                let id = action
                    .parameters()
                    .value("place")
                    .unwrap_or_default()
                    .to_owned();
                let response = nugu_proxy::ActionResponse::from_request(action).output("echo", id);
                Ok::<_, Infallible>(response.into_http())
            }
        });
    let server = start(builder(&cert), service).await;
    let addr = server.addr;
    let der = cert.der.clone();

    let answered = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (der, answered, refused) = (der.clone(), answered.clone(), refused.clone());
        clients.push(tokio::spawn(async move {
            let mut client = h1_client(addr, &der).await;
            for n in 0..1000 {
                let id = format!("client-{c}-request-{n}");
                let mut body: serde_json::Value = serde_json::from_str(&good_body()).unwrap();
                body["action"]["parameters"]["place"]["value"] = id.clone().into();
                if client.ready().await.is_err() {
                    // The server closed this keep-alive connection after the signal.
                    refused.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                let Ok(response) = client
                    .send_request(nugu_post("/nugu/check_in", body.to_string()))
                    .await
                else {
                    // Closed before this request was taken up.
                    refused.fetch_add(1, Ordering::SeqCst);
                    return;
                };
                assert_echoes(response, &id).await;
                answered.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    // HTTP/2 too: streams on shared connections. After GOAWAY a new stream is refused (the
    // handler never sees it); a stream the server took up is answered in full.
    let h2_refused = Arc::new(AtomicUsize::new(0));
    for conn in 0..H2_CONNECTIONS {
        let h2 = h2_client(addr, &der).await;
        for s in 0..H2_STREAMS {
            let (mut h2, answered, h2_refused) = (h2.clone(), answered.clone(), h2_refused.clone());
            clients.push(tokio::spawn(async move {
                for n in 0..1000 {
                    let id = format!("h2-{conn}-{s}-request-{n}");
                    let mut body: serde_json::Value = serde_json::from_str(&good_body()).unwrap();
                    body["action"]["parameters"]["place"]["value"] = id.clone().into();
                    let mut request =
                        nugu_post("https://localhost/nugu/check_in", body.to_string());
                    request.headers_mut().remove("host");
                    let Ok(response) = h2.send_request(request).await else {
                        h2_refused.fetch_add(1, Ordering::SeqCst);
                        return;
                    };
                    assert_echoes(response, &id).await;
                    answered.fetch_add(1, Ordering::SeqCst);
                }
            }));
        }
    }

    // Load until every client has had requests taken up, then the signal with requests in
    // flight.
    for _ in 0..1000 {
        if started.load(Ordering::SeqCst) >= 2 * CLIENTS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let Running { stop, task, .. } = server;
    let at_signal = started.load(Ordering::SeqCst);
    let _ = stop.map(|s| s.send(()));

    // No new connection is accepted once the listener is closed.
    let mut closed = false;
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        closed,
        "the server accepted connections after the shutdown signal"
    );

    for client in clients {
        tokio::time::timeout(Duration::from_secs(10), client)
            .await
            .expect("every client finished")
            .expect("no client saw a broken response");
    }
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the server finished after its last request")
        .unwrap();
    let (started, answered) = (
        started.load(Ordering::SeqCst),
        answered.load(Ordering::SeqCst),
    );
    eprintln!(
        "graceful shutdown under load: {answered} answered, {started} accepted ({at_signal} before \
         the signal); {} HTTP/1.1 connections closed, {} HTTP/2 streams refused after GOAWAY",
        refused.load(Ordering::SeqCst),
        h2_refused.load(Ordering::SeqCst),
    );
    assert!(
        at_signal >= 2 * CLIENTS,
        "too little load to test: {at_signal}"
    );
    // Every request the handler took up got its full response, and none was lost.
    assert_eq!(answered, started, "accepted requests were lost");
    assert_eq!(
        refused.load(Ordering::SeqCst),
        CLIENTS,
        "every client was told to stop"
    );
}

/// An accepted request's answer: 200, in full, echoing `id`.
async fn assert_echoes(response: Response<Incoming>, id: &str) {
    assert_eq!(response.status(), 200);
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("an accepted request got its full response")
        .to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(json["output"]["echo"], id);
}

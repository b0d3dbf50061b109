//! Load and overload, test-sized (seconds): `scripts/soak` is the long run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::net::TcpStream;

use crate::support::*;

/// How long the sustained load runs, and how many clients keep a request in flight.
const LOAD_FOR: Duration = Duration::from_secs(3);
const H1_CLIENTS: usize = 12;
const H2_CONNECTIONS: usize = 2;
const H2_STREAMS: usize = 4;

/// The server's resident memory (this process: the server and its clients), in KiB.
fn rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches(" kB")
        .parse()
        .ok()
}

/// Checks one answer to a good request fully: status, NUGU body, the echoed user.
fn is_correct(status: u16, body: &[u8]) -> bool {
    status == 200
        && serde_json::from_slice::<Value>(body)
            .is_ok_and(|json| json["resultCode"] == "OK" && json["output"]["userName"] == "홍길동")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sustained_concurrent_load_has_zero_errors() {
    let cert = cert();
    let calls = Calls::default();
    let server = start(builder(&cert), play(&calls)).await;
    let addr = server.addr;
    let ok = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let rss_start = rss_kib();
    let deadline = Instant::now() + LOAD_FOR;

    let mut tasks = Vec::new();
    for _ in 0..H1_CLIENTS {
        let (der, ok, errors) = (cert.der.clone(), ok.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = h1_client(addr, &der).await;
            while Instant::now() < deadline {
                let answer = send(&mut client, nugu_post("/nugu/check_in", good_body())).await;
                let counter = if is_correct(answer.status, &answer.body) {
                    &ok
                } else {
                    &errors
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for _ in 0..H2_CONNECTIONS {
        let h2 = h2_client(addr, &cert.der).await;
        for _ in 0..H2_STREAMS {
            let (mut h2, ok, errors) = (h2.clone(), ok.clone(), errors.clone());
            tasks.push(tokio::spawn(async move {
                while Instant::now() < deadline {
                    let mut request = nugu_post("https://localhost/nugu/check_in", good_body());
                    request.headers_mut().remove("host");
                    let correct = match h2.send_request(request).await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let body = http_body_util::BodyExt::collect(response.into_body())
                                .await
                                .map(|b| b.to_bytes());
                            body.is_ok_and(|body| is_correct(status, &body))
                        }
                        Err(_) => false,
                    };
                    let counter = if correct { &ok } else { &errors };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
    }
    for task in tasks {
        tokio::time::timeout(LOAD_FOR + Duration::from_secs(10), task)
            .await
            .expect("the client finished")
            .expect("the client did not panic");
    }
    let (ok, errors) = (ok.load(Ordering::SeqCst), errors.load(Ordering::SeqCst));
    eprintln!(
        "sustained load: {ok} correct answers, {errors} errors in {LOAD_FOR:?} \
         ({} clients); RSS {rss_start:?} -> {:?} KiB",
        H1_CLIENTS + H2_CONNECTIONS * H2_STREAMS,
        rss_kib()
    );
    assert_eq!(errors, 0);
    assert_eq!(calls.get(), ok, "every request reached the handler once");
    assert!(ok >= 100, "too little load to mean anything: {ok}");
    assert_still_serving(addr, &cert.der).await;
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_max_connections_is_held_then_served() {
    const SLOTS: usize = 4;
    const BURST: usize = 40;
    let cert = cert();
    let calls = Calls::default();
    let server = start(builder(&cert).max_connections(SLOTS), play(&calls)).await;
    let addr = server.addr;

    // Every slot taken by an idle keep-alive connection: a new client is not served (it waits
    // in the listen queue; its handshake cannot finish) and gives up.
    let mut holders = Vec::new();
    for _ in 0..SLOTS {
        let mut client = h1_client(addr, &cert.der).await;
        send(&mut client, nugu_post("/nugu/check_in", good_body()))
            .await
            .assert_nugu_ok();
        holders.push(client);
    }
    let mut waiting = Vec::new();
    for _ in 0..BURST / 4 {
        let der = cert.der.clone();
        waiting.push(tokio::spawn(async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let handshake = tokio_rustls::TlsConnector::from(client_config(&[&der], &[])).connect(
                rustls::pki_types::ServerName::try_from("localhost").unwrap(),
                tcp,
            );
            tokio::time::timeout(Duration::from_millis(300), handshake)
                .await
                .is_err()
        }));
    }
    for w in waiting {
        assert!(
            w.await.unwrap(),
            "a connection was served beyond max_connections"
        );
    }

    // The slots free up: a burst of ten times the limit, each client one request on its own
    // connection, is served in full, SLOTS at a time.
    drop(holders);
    let started = Instant::now();
    let served = Arc::new(AtomicUsize::new(0));
    let mut burst = Vec::new();
    for _ in 0..BURST {
        let (der, served) = (cert.der.clone(), served.clone());
        burst.push(tokio::spawn(async move {
            let mut client = h1_client(addr, &der).await;
            let answer = send(&mut client, nugu_post("/nugu/check_in", good_body())).await;
            if is_correct(answer.status, &answer.body) {
                served.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    for task in burst {
        tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("every client of the burst was served in time")
            .expect("the client did not panic");
    }
    eprintln!(
        "burst of {BURST} over {SLOTS} slots served in {:?}",
        started.elapsed()
    );
    assert_eq!(served.load(Ordering::SeqCst), BURST);
    assert_still_serving(addr, &cert.der).await;
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_http2_connection_gets_at_most_32_requests_in_flight() {
    const SENT: usize = 40;
    let cert = cert();
    let started = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let (counter, permits) = (started.clone(), gate.clone());
    // Each request holds its slot until the test lets it go.
    let held = tower::service_fn(move |_req: http::Request<hyper::body::Incoming>| {
        let (counter, permits) = (counter.clone(), permits.clone());
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            if let Ok(permit) = permits.acquire().await {
                permit.forget();
            }
            Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                bytes::Bytes::from_static(b"done"),
            )))
        }
    });
    let server = start(builder(&cert), held).await;
    let h2 = h2_client(server.addr, &cert.der).await;
    // One request first, so that the client has the server's SETTINGS: a client that opens
    // streams before them gets those past the limit refused (REFUSED_STREAM, never processed,
    // safe to retry) rather than queued.
    gate.add_permits(1);
    let request = http::Request::get("https://localhost/nugu/first")
        .body(http_body_util::Full::<bytes::Bytes>::default())
        .unwrap();
    assert_eq!(
        h2.clone().send_request(request).await.unwrap().status(),
        200
    );
    started.store(0, Ordering::SeqCst);
    let mut streams = Vec::new();
    for _ in 0..SENT {
        let mut h2 = h2.clone();
        streams.push(tokio::spawn(async move {
            let request = http::Request::get("https://localhost/nugu/held")
                .body(http_body_util::Full::<bytes::Bytes>::default())
                .unwrap();
            let response = h2.send_request(request).await.unwrap();
            response.status().as_u16()
        }));
    }
    // The server announced 32: the client queues the rest, and no more than 32 are taken up.
    for _ in 0..500 {
        if started.load(Ordering::SeqCst) >= 32 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(started.load(Ordering::SeqCst), 32);
    // Let them all go: every one of the 40 is answered.
    gate.add_permits(SENT);
    for stream in streams {
        let status = tokio::time::timeout(Duration::from_secs(10), stream)
            .await
            .expect("every stream was answered")
            .unwrap();
        assert_eq!(status, 200);
    }
    assert_eq!(started.load(Ordering::SeqCst), SENT);
    server.shut_down().await;
}

/// Opens an HTTP/2 connection and `streams` requests on it whose bodies the service never
/// reads, and sends on each as much as the server's flow control lets it: the bytes the server
/// then has to hold. h2 keeps to the windows the server announced, so the count is exact.
/// Returns once nothing more has been let through for half a second, with the connection
/// (kept open by its tasks until the test's runtime ends).
async fn park_request_bodies(
    addr: std::net::SocketAddr,
    der: &rustls::pki_types::CertificateDer<'static>,
    streams: usize,
    expected: usize,
) -> usize {
    let stream = tls_connect(addr, der, &[b"h2"]).await;
    let (client, connection) = h2::client::handshake(stream).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    // One round trip first: the server's settings (its windows, its stream limit) are then
    // in force for the streams below.
    let health = http::Request::get("https://localhost/nugu/health")
        .body(())
        .unwrap();
    let (response, _) = client.send_request(health, true).unwrap();
    assert_eq!(response.await.unwrap().status(), 200);

    let sent = Arc::new(AtomicUsize::new(0));
    for _ in 0..streams {
        client = client.ready().await.unwrap();
        let request = http::Request::post("https://localhost/nugu/park")
            .body(())
            .unwrap();
        let (response, mut body) = client.send_request(request, false).unwrap();
        let sent = sent.clone();
        tokio::spawn(async move {
            let _response = response;
            loop {
                body.reserve_capacity(1 << 20);
                match std::future::poll_fn(|cx| body.poll_capacity(cx)).await {
                    Some(Ok(0)) => {}
                    Some(Ok(n)) => {
                        body.send_data(bytes::Bytes::from(vec![b'x'; n]), false)
                            .unwrap();
                        sent.fetch_add(n, Ordering::SeqCst);
                    }
                    None | Some(Err(_)) => return,
                }
            }
        });
    }
    // Until the expected amount is through (or 10 s), then half a second with nothing more.
    let deadline = Instant::now() + Duration::from_secs(10);
    while sent.load(Ordering::SeqCst) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut last = sent.load(Ordering::SeqCst);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = sent.load(Ordering::SeqCst);
        if now == last {
            return now;
        }
        last = now;
    }
}

#[tokio::test]
async fn what_http2_clients_can_park_is_bounded_by_the_windows() {
    const CONNECTIONS: usize = 3;
    const STREAMS: u32 = 4;
    let cert = cert();
    // A service that never reads a body: what arrives stays in the server's buffers.
    let parking = tower::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
        // Keeps the request (a dropped body's data would be discarded and its window freed).
        let _unread = req;
        tokio::time::sleep(Duration::from_secs(600)).await;
        Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    });
    // The stream windows bind (4 x 8 KiB < 64 KiB), then the connection window does
    // (4 x 64 KiB > 96 KiB).
    for (stream_window, connection_window, per_connection) in [
        (8 * 1024, 64 * 1024, 4 * 8 * 1024),
        (64 * 1024, 96 * 1024, 96 * 1024),
    ] {
        let builder = builder(&cert)
            .max_connections(CONNECTIONS)
            .max_concurrent_streams(STREAMS)
            .http2_stream_window(stream_window)
            .http2_connection_window(connection_window)
            .request_timeout(Duration::from_secs(600))
            .shutdown_grace(Duration::from_millis(100));
        let bound = builder.request_memory_bound(0);
        let server = start(builder, parking).await;
        // All connections at once, as many as the server takes.
        let held = futures_util::future::join_all((0..CONNECTIONS).map(|_| {
            park_request_bodies(server.addr, &cert.der, STREAMS as usize, per_connection)
        }))
        .await;
        // Exactly the windows: hyper's defaults (1 MiB each) would let through far more.
        assert_eq!(
            held, [per_connection; CONNECTIONS],
            "windows {stream_window}/{connection_window}"
        );
        let parked: usize = held.iter().sum();
        assert!(
            u64::try_from(parked).unwrap() <= bound,
            "{parked} bytes parked, bound {bound}"
        );
        server.shut_down().await;
    }
}

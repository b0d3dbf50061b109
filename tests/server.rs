//! The HTTPS-only server over real sockets on 127.0.0.1: real TLS handshakes (rustls), real
//! HTTP clients (hyper), certificates made by rcgen here.

#![cfg(feature = "server")]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::https::{
    cert_for_localhost, cert_valid_between, h1_over, nugu_post, tls_connect, Sender,
};
use common::{client_config, fixture, start, Reporter, Running, API_KEY, PATIENCE};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use nugu_proxy::layer::ApiKey;
use nugu_proxy::server::{
    parse_listen_addr, PemKind, PublicUrl, Server, StartupError, TlsConfig, TrustedProxies,
};
use nugu_proxy::transport::{ConnectionInfo, TlsVersion, Transport};
use nugu_proxy::PrivatePlayLayer;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::HandshakeKind;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tower::ServiceBuilder;

// ---- server and clients (the certificates, TLS and HTTP clients are common::https's) ----

/// Sends a request and reads the whole answer: (status, body text).
async fn send(sender: &mut Sender, request: Request<Full<Bytes>>) -> (StatusCode, String) {
    sender.ready().await.unwrap();
    let response = sender.send_request(request).await.unwrap();
    read(response).await
}

async fn read(response: Response<Incoming>) -> (StatusCode, String) {
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header("host", "localhost")
        .body(Full::default())
        .unwrap()
}

/// A request with no body, in the form an HTTP/2 client needs (with an authority).
fn request(method: http::Method, path: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(format!("https://localhost{path}"))
        .body(Full::default())
        .unwrap()
}

fn private_play(reporter: &Reporter) -> impl nugu_proxy::server::ProxyService {
    let reporter = reporter.clone();
    ServiceBuilder::new()
        .layer(PrivatePlayLayer::new(ApiKey::new(API_KEY).unwrap()))
        .service_fn(move |req| reporter.clone().handle(req))
}

/// A service that answers with the connection facts of the request, as JSON.
fn connection_reporter() -> impl nugu_proxy::server::ProxyService {
    tower::service_fn(|req: Request<Incoming>| async move {
        let info = req.extensions().get::<ConnectionInfo>();
        let report = match info.map(ConnectionInfo::transport) {
            Some(Transport::Tls(tls)) => json!({
                "transport": "tls",
                "version": format!("{:?}", tls.version()),
                "alpn": tls.alpn().map(|a| String::from_utf8_lossy(a).into_owned()),
                "sni": tls.sni(),
                "httpVersion": format!("{:?}", req.version()),
            }),
            Some(Transport::TrustedProxy { proxy }) => json!({
                "transport": "trusted_proxy", "proxy": proxy.to_string(),
            }),
            Some(_) => json!({ "transport": "other" }),
            None => json!({ "transport": null }),
        };
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(report.to_string()))))
    })
}

/// Reads from a raw socket until the peer closes it (or `PATIENCE` passes, which fails the
/// test).
async fn read_until_closed(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server kept the connection open");
    seen
}

// ---- HTTPS round trips --------------------------------------------------------------------

#[tokio::test]
async fn https_round_trip_handler_sees_the_typed_enrolled_user() {
    let cert = cert_for_localhost();
    let reporter = Reporter::default();
    let server = start(Server::builder().tls(cert.tls()), private_play(&reporter)).await;

    let stream = tls_connect(server.addr, client_config(&[&cert.der], &[b"http/1.1"])).await;
    let mut sender = h1_over(stream).await;
    let (status, body) = send(
        &mut sender,
        nugu_post("/nugu/check_in", fixture("private_play_basic")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["seen"]["actionName"], "check_in");
    assert!(
        report["seen"]["enrolledUser"]["name"].is_string(),
        "{report}"
    );
    assert_eq!(reporter.calls(), 1);

    // Without the API key the layer still refuses: TLS is not authentication.
    let mut anonymous = nugu_post("/nugu/check_in", fixture("private_play_basic"));
    anonymous.headers_mut().remove("authorization");
    let (status, _) = send(&mut sender, anonymous).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(reporter.calls(), 1);
    server.shut_down().await;
}

#[tokio::test]
async fn connection_facts_reach_the_service_over_http1_and_http2_by_alpn() {
    let cert = cert_for_localhost();
    let server = start(Server::builder().tls(cert.tls()), connection_reporter()).await;

    let stream = tls_connect(server.addr, client_config(&[&cert.der], &[b"http/1.1"])).await;
    let (status, body) = send(&mut h1_over(stream).await, get("/facts")).await;
    assert_eq!(status, StatusCode::OK);
    let facts: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(facts["transport"], "tls");
    assert_eq!(facts["version"], format!("{:?}", TlsVersion::Tls13));
    assert_eq!(facts["alpn"], "http/1.1");
    assert_eq!(facts["sni"], "localhost");
    assert_eq!(facts["httpVersion"], "HTTP/1.1");

    let stream = tls_connect(server.addr, client_config(&[&cert.der], &[b"h2"])).await;
    let (mut sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let request = Request::get(format!("https://localhost:{}/facts", server.addr.port()))
        .body(Full::<Bytes>::default())
        .unwrap();
    let (status, body) = read(sender.send_request(request).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let facts: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(facts["alpn"], "h2");
    assert_eq!(facts["httpVersion"], "HTTP/2.0");

    // TLS 1.2 is still spoken (some clients need it); nothing older exists in rustls.
    let tls12 = {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der.clone()).unwrap();
        Arc::new(
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
        )
    };
    let stream = tls_connect(server.addr, tls12).await;
    let (_, body) = send(&mut h1_over(stream).await, get("/facts")).await;
    let facts: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(facts["version"], format!("{:?}", TlsVersion::Tls12));
    server.shut_down().await;
}

#[tokio::test]
async fn the_server_cipher_suite_order_wins_over_the_clients() {
    // testssl.sh reported "Has server cipher order? no": a client listing ChaCha20 first got
    // ChaCha20. The server's order (the ring provider's, AES-GCM first) must win, in TLS 1.3
    // and TLS 1.2 alike.
    use rustls::crypto::ring::{cipher_suite, default_provider};
    let cert = cert_for_localhost();
    let running = start(Server::builder().tls(cert.tls()), connection_reporter()).await;
    let cases = [
        (
            &rustls::version::TLS13,
            vec![
                cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
                cipher_suite::TLS13_AES_128_GCM_SHA256,
                cipher_suite::TLS13_AES_256_GCM_SHA384,
            ],
        ),
        (
            &rustls::version::TLS12,
            vec![
                cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            ],
        ),
    ];
    for (version, client_order) in cases {
        let server_first = default_provider()
            .cipher_suites
            .into_iter()
            .find(|suite| client_order.contains(suite))
            .unwrap()
            .suite();
        let provider = rustls::crypto::CryptoProvider {
            cipher_suites: client_order,
            ..default_provider()
        };
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der.clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let stream = tls_connect(running.addr, Arc::new(config)).await;
        let negotiated = stream
            .get_ref()
            .1
            .negotiated_cipher_suite()
            .unwrap()
            .suite();
        assert_eq!(negotiated, server_first, "{version:?}");
    }
    running.shut_down().await;
}

#[tokio::test]
async fn plain_http_client_against_the_tls_port_gets_no_http_response() {
    let cert = cert_for_localhost();
    let reporter = Reporter::default();
    let server = start(Server::builder().tls(cert.tls()), private_play(&reporter)).await;

    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    let body = fixture("private_play_basic");
    let request = format!(
        "POST /nugu/check_in HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Authorization: token {API_KEY}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut tcp).await;
    assert!(
        !answer.starts_with(b"HTTP/"),
        "a plain-HTTP client got an HTTP answer: {:?}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(reporter.calls(), 0);
    server.shut_down().await;
}

// ---- health -------------------------------------------------------------------------------

#[tokio::test]
async fn health_answers_under_the_public_url_prefix_without_authentication() {
    let cert = cert_for_localhost();
    let ready = Arc::new(AtomicBool::new(true));
    let reporter = Reporter::default();
    let flag = ready.clone();
    let builder = Server::builder()
        .tls(cert.tls())
        .public_url("https://proxy.example.com/nugu".parse().unwrap())
        .readiness(move || flag.load(Ordering::SeqCst));
    let server = start(builder, private_play(&reporter)).await;

    let stream = tls_connect(server.addr, client_config(&[&cert.der], &[])).await;
    let mut sender = h1_over(stream).await;
    assert_eq!(
        send(&mut sender, get("/nugu/health")).await,
        (StatusCode::OK, "OK".to_owned())
    );
    ready.store(false, Ordering::SeqCst);
    let (status, _) = send(&mut sender, get("/nugu/health")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reporter.calls(), 0);
    // NUGU polls `GET /health` on the host root too (the docs' example), and a long run of
    // non-200 answers there gets the play suspended: the root answers alike, prefix or not.
    let (status, _) = send(&mut sender, get("/health")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    ready.store(true, Ordering::SeqCst);
    assert_eq!(
        send(&mut sender, get("/health")).await,
        (StatusCode::OK, "OK".to_owned())
    );
    assert_eq!(reporter.calls(), 0);
    // NUGU calls nothing else outside the prefix, so the rest never reaches the service either:
    // the server answers 404 itself.
    for path in ["/other", "/health/x", "/healthz"] {
        let (status, body) = send(&mut sender, get(path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["error"],
            "not_found"
        );
    }
    assert_eq!(reporter.calls(), 0);
    // Under the prefix, any other path goes to the service: here its layer refuses the GET.
    let (status, body) = send(&mut sender, get("/nugu/other")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "method_not_allowed"
    );
    assert_eq!(reporter.calls(), 0);
    server.shut_down().await;
}

#[tokio::test]
async fn health_is_answered_before_the_layers_method_rule() {
    // The layer refuses every method but POST (405); NUGU's health poll is the server's own,
    // answered before the service, over HTTP/1.1 and HTTP/2 alike.
    let cert = cert_for_localhost();
    let reporter = Reporter::default();
    let builder = Server::builder()
        .tls(cert.tls())
        .public_url("https://proxy.example.com/nugu".parse().unwrap());
    let server = start(builder, private_play(&reporter)).await;

    let stream = tls_connect(server.addr, client_config(&[&cert.der], &[b"http/1.1"])).await;
    let mut h1 = h1_over(stream).await;
    let stream = tls_connect(server.addr, client_config(&[&cert.der], &[b"h2"])).await;
    let (mut h2, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    for http2 in [false, true] {
        let mut exchange = async |request: Request<Full<Bytes>>| {
            if http2 {
                read(h2.send_request(request).await.unwrap()).await
            } else {
                send(&mut h1, request).await
            }
        };
        let (status, body) = exchange(request(http::Method::GET, "/nugu/health")).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "OK"),
            "h2: {http2}"
        );
        let (status, body) = exchange(request(http::Method::HEAD, "/nugu/health")).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, ""), "h2: {http2}");
        let (status, body) = exchange(request(http::Method::GET, "/nugu/check_in")).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "h2: {http2}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["error"],
            "method_not_allowed"
        );
    }
    assert_eq!(reporter.calls(), 0);
    server.shut_down().await;
}

#[tokio::test]
async fn head_gets_the_head_of_get_and_no_body_over_http1_and_http2() {
    // hyper drops a HEAD response's body over HTTP/1.1 but sends it over HTTP/2, where the
    // client resets the stream (PROTOCOL_ERROR): the server must send no body itself, for its
    // own answers (health, 400, 404) and for the service's (a refusal, or a passed-through HEAD).
    let cert = cert_for_localhost();
    let reporter = Reporter::default();
    let inner = reporter.clone();
    let service = ServiceBuilder::new()
        .layer(
            PrivatePlayLayer::new(ApiKey::new(API_KEY).unwrap())
                .pass_through_unauthenticated([http::Method::GET, http::Method::HEAD]),
        )
        .service_fn(move |req| inner.clone().handle(req));
    let refusing = ServiceBuilder::new()
        .layer(PrivatePlayLayer::new(ApiKey::new(API_KEY).unwrap()))
        .service_fn(|_: Request<Full<Bytes>>| async {
            Ok::<_, Infallible>(Response::new(Full::<Bytes>::default()))
        });
    let public_url = || "https://proxy.example.com/nugu".parse().unwrap();
    let passing = start(
        Server::builder().tls(cert.tls()).public_url(public_url()),
        service,
    )
    .await;
    let refusing = start(
        Server::builder().tls(cert.tls()).public_url(public_url()),
        refusing,
    )
    .await;

    for (server, path, status) in [
        (&passing, "/nugu/health", StatusCode::OK),
        (&passing, "/elsewhere", StatusCode::NOT_FOUND),
        (&passing, "/nugu//page", StatusCode::BAD_REQUEST),
        (&passing, "/nugu/page", StatusCode::OK),
        (&refusing, "/nugu/check_in", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        for http2 in [false, true] {
            let alpn: &[u8] = if http2 { b"h2" } else { b"http/1.1" };
            let stream = tls_connect(server.addr, client_config(&[&cert.der], &[alpn])).await;
            // One connection per exchange, so that a reset or a stray body cannot hide behind
            // the next request.
            let answer = if http2 {
                let (mut h2, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                    .await
                    .unwrap();
                tokio::spawn(conn);
                let get = read_head(h2.send_request(request(http::Method::GET, path)).await).await;
                let head =
                    read_head(h2.send_request(request(http::Method::HEAD, path)).await).await;
                (get, head)
            } else {
                let mut h1 = h1_over(stream).await;
                h1.ready().await.unwrap();
                let get = read_head(h1.send_request(request(http::Method::GET, path)).await).await;
                h1.ready().await.unwrap();
                let head =
                    read_head(h1.send_request(request(http::Method::HEAD, path)).await).await;
                (get, head)
            };
            let (get, head) = answer;
            let (get_status, get_length, get_body) = get.unwrap();
            let (head_status, head_length, head_body) =
                head.unwrap_or_else(|error| panic!("HEAD {path} (h2: {http2}) failed: {error:?}"));
            assert_eq!(
                (get_status, head_status),
                (status, status),
                "{path} h2: {http2}"
            );
            assert!(!get_body.is_empty(), "{path} h2: {http2}");
            assert_eq!(
                head_body,
                Bytes::new(),
                "HEAD {path} h2: {http2} sent a body"
            );
            if path != "/nugu/page" {
                // The server's own answer: the same Content-Length as the GET's body.
                assert_eq!(
                    get_length,
                    Some(get_body.len().to_string()),
                    "{path} h2: {http2}"
                );
                assert_eq!(head_length, get_length, "HEAD {path} h2: {http2}");
            }
        }
    }
    // The passed-through HEAD reached the service, once per protocol, as did the GETs.
    assert_eq!(reporter.calls(), 4);
    passing.shut_down().await;
    refusing.shut_down().await;
}

/// Status, `Content-Length` and body of a response, or the error that ended it.
async fn read_head(
    response: Result<Response<Incoming>, hyper::Error>,
) -> Result<(StatusCode, Option<String>, Bytes), hyper::Error> {
    let response = response?;
    let status = response.status();
    let length = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, length, body))
}

// ---- startup refusals ---------------------------------------------------------------------

#[test]
fn refuses_missing_certificate_or_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let cert = cert_for_localhost();
    let (cert_path, key_path) = cert.write(dir.path());

    let err = TlsConfig::from_pem_files(dir.path().join("nope.pem"), &key_path).unwrap_err();
    assert!(
        matches!(
            err,
            StartupError::ReadPem {
                what: PemKind::Certificate,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("nope.pem"), "{err}");

    let err = TlsConfig::from_pem_files(&cert_path, dir.path().join("nokey.pem")).unwrap_err();
    assert!(
        matches!(
            err,
            StartupError::ReadPem {
                what: PemKind::PrivateKey,
                ..
            }
        ),
        "{err:?}"
    );

    // Files that exist but hold no certificate / no key.
    std::fs::write(&cert_path, "").unwrap();
    let err = TlsConfig::from_pem_files(&cert_path, &key_path).unwrap_err();
    assert!(
        matches!(
            err,
            StartupError::MissingPem {
                what: PemKind::Certificate,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("BEGIN CERTIFICATE"), "{err}");

    let err = TlsConfig::from_pem(cert.cert_pem.as_bytes(), cert.cert_pem.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            StartupError::MissingPem {
                what: PemKind::PrivateKey,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_malformed_pem_without_quoting_it() {
    let cert = cert_for_localhost();
    let broken_key = cert.key_pem.replace("-----END PRIVATE KEY-----", "");
    let err = TlsConfig::from_pem(cert.cert_pem.as_bytes(), broken_key.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            StartupError::MalformedPem {
                what: PemKind::PrivateKey,
                ..
            }
        ),
        "{err:?}"
    );
    let key_body = cert.key_pem.lines().nth(1).unwrap();
    assert!(
        !err.to_string().contains(key_body),
        "the error quotes the key: {err}"
    );
    assert!(!format!("{err:?}").contains(key_body));

    let garbage =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    let err = TlsConfig::from_pem(garbage.as_bytes(), cert.key_pem.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            StartupError::MalformedPem {
                what: PemKind::Certificate,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_a_key_that_is_not_the_certificates() {
    let cert = cert_for_localhost();
    let other = cert_for_localhost();
    let err = TlsConfig::from_pem(cert.cert_pem.as_bytes(), other.key_pem.as_bytes()).unwrap_err();
    assert!(matches!(err, StartupError::KeyMismatch), "{err:?}");
    assert!(err.to_string().contains("does not match"), "{err}");
}

#[test]
fn refuses_expired_and_not_yet_valid_certificates() {
    let expired = cert_valid_between((2000, 1, 1), (2001, 1, 1));
    let err =
        TlsConfig::from_pem(expired.cert_pem.as_bytes(), expired.key_pem.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            StartupError::CertificateNotValidNow { expired: true, .. }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("expired on Jan  1 00:00:00 2001"),
        "{err}"
    );

    let future = cert_valid_between((2999, 1, 1), (3000, 1, 1));
    let err =
        TlsConfig::from_pem(future.cert_pem.as_bytes(), future.key_pem.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            StartupError::CertificateNotValidNow { expired: false, .. }
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_plain_http_public_urls_and_listen_addresses() {
    let err = PublicUrl::parse("http://proxy.example.com/nugu").unwrap_err();
    assert!(
        matches!(err, StartupError::PublicUrlNotHttps { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("https"), "{err}");
    assert!(matches!(
        PublicUrl::parse("proxy.example.com/nugu"),
        Err(StartupError::MalformedPublicUrl { .. })
    ));
    assert!(matches!(
        parse_listen_addr("http://127.0.0.1:8443"),
        Err(StartupError::BadListenAddress {
            plain_http: true,
            ..
        })
    ));
    assert!(matches!(
        parse_listen_addr("nonsense"),
        Err(StartupError::BadListenAddress {
            plain_http: false,
            ..
        })
    ));
}

#[test]
fn terminator_mode_refuses_an_empty_or_bad_trusted_proxy_list() {
    assert!(matches!(
        TrustedProxies::new([]),
        Err(StartupError::NoTrustedProxies)
    ));
    assert!(matches!(
        " , ".parse::<TrustedProxies>(),
        Err(StartupError::NoTrustedProxies)
    ));
    assert!(matches!(
        "10.0.0.2, lb.internal".parse::<TrustedProxies>(),
        Err(StartupError::BadTrustedProxy { .. })
    ));
}

// ---- behind a TLS-terminating load balancer -----------------------------------------------

async fn connect_from(local: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
    socket.connect(server).await.unwrap()
}

#[tokio::test]
async fn terminator_mode_serves_a_trusted_proxy_only_with_forwarded_https() {
    let reporter = Reporter::default();
    let builder = Server::builder().behind_tls_terminator(
        "127.0.0.2".parse().unwrap(),
        "https://proxy.example.com/nugu".parse().unwrap(),
    );
    let server = start(builder, private_play(&reporter)).await;

    // The trusted proxy, saying the request arrived over HTTPS: served, user typed.
    let mut proxy = h1_over(connect_from("127.0.0.2", server.addr).await).await;
    let mut request = nugu_post("/nugu/check_in", fixture("private_play_basic"));
    request
        .headers_mut()
        .insert("x-forwarded-proto", "https".parse().unwrap());
    let (status, body) = send(&mut proxy, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert!(report["seen"]["enrolledUser"]["name"].is_string());

    // RFC 7239 `Forwarded` works as well.
    let mut request = nugu_post("/nugu/check_in", fixture("private_play_basic"));
    request
        .headers_mut()
        .insert("forwarded", "for=198.51.100.7;proto=https".parse().unwrap());
    assert_eq!(send(&mut proxy, request).await.0, StatusCode::OK);
    assert_eq!(reporter.calls(), 2);

    // The trusted proxy without the header, or saying http: 403, never reaches the service.
    let (status, body) = send(
        &mut proxy,
        nugu_post("/nugu/check_in", fixture("private_play_basic")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "https_required"
    );
    let mut request = nugu_post("/nugu/check_in", fixture("private_play_basic"));
    request
        .headers_mut()
        .insert("x-forwarded-proto", "http".parse().unwrap());
    assert_eq!(send(&mut proxy, request).await.0, StatusCode::FORBIDDEN);
    assert_eq!(reporter.calls(), 2);

    // The load balancer's own health probe needs no header.
    assert_eq!(
        send(&mut proxy, get("/nugu/health")).await.0,
        StatusCode::OK
    );

    // Anyone else is closed at accept, before a byte of HTTP.
    let mut stranger = connect_from("127.0.0.1", server.addr).await;
    let request =
        b"GET /nugu/health HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Proto: https\r\n\r\n";
    let _ = stranger.write_all(request).await;
    let answer = read_until_closed(&mut stranger).await;
    assert!(answer.is_empty(), "{:?}", String::from_utf8_lossy(&answer));
    assert_eq!(reporter.calls(), 2);
    server.shut_down().await;
}

#[tokio::test]
async fn terminator_mode_marks_requests_as_forwarded_by_the_proxy() {
    let builder = Server::builder().behind_tls_terminator(
        "127.0.0.1".parse().unwrap(),
        "https://proxy.example.com".parse().unwrap(),
    );
    let server = start(builder, connection_reporter()).await;
    let mut proxy = h1_over(TcpStream::connect(server.addr).await.unwrap()).await;
    let mut request = get("/facts");
    request
        .headers_mut()
        .insert("x-forwarded-proto", "https".parse().unwrap());
    let (status, body) = send(&mut proxy, request).await;
    assert_eq!(status, StatusCode::OK);
    let facts: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(facts["transport"], "trusted_proxy");
    assert!(facts["proxy"].as_str().unwrap().starts_with("127.0.0.1:"));
    server.shut_down().await;
}

// ---- timeouts and limits ------------------------------------------------------------------

#[tokio::test]
async fn slow_clients_are_timed_out() {
    let cert = cert_for_localhost();
    let reporter = Reporter::default();
    let builder = Server::builder()
        .tls(cert.tls())
        // Long enough for the test's own clients to finish a handshake on a loaded machine.
        .handshake_timeout(Duration::from_secs(1))
        .header_read_timeout(Duration::from_secs(1))
        .request_timeout(Duration::from_secs(1));
    let server = start(builder, private_play(&reporter)).await;

    // Opens TCP and never starts the handshake.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    read_until_closed(&mut silent).await;

    // Completes the handshake, then sends half a request head and stalls.
    let mut stalling = tls_connect(server.addr, client_config(&[&cert.der], &[b"http/1.1"])).await;
    stalling
        .write_all(b"POST /nugu/check_in HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stalling).await;
    assert!(
        !answer.starts_with(b"HTTP/1.1 2"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );

    // Sends a whole head, then a body that never completes: the request timeout answers 504.
    let mut dribbling = tls_connect(server.addr, client_config(&[&cert.der], &[b"http/1.1"])).await;
    let head = format!(
        "POST /nugu/check_in HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Authorization: token {API_KEY}\r\nContent-Length: 1000\r\n\r\n{{\"version\":"
    );
    dribbling.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut dribbling).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 504"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );

    // An idle keep-alive connection is closed too: it cannot hold a connection slot forever.
    let idle = tls_connect(server.addr, client_config(&[&cert.der], &[b"http/1.1"])).await;
    let (mut sender, conn) = http1::handshake(TokioIo::new(idle)).await.unwrap();
    let conn = tokio::spawn(conn);
    assert_eq!(send(&mut sender, get("/health")).await.0, StatusCode::OK);
    // Ended by the server (hyper drops it without a TLS close_notify, so the client may report
    // an unexpected EOF: either way the connection is gone).
    tokio::time::timeout(PATIENCE, conn)
        .await
        .expect("the server closed the idle connection")
        .unwrap()
        .ok();
    assert_eq!(reporter.calls(), 0);
    server.shut_down().await;
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed_after_the_idle_timeout() {
    let cert = cert_for_localhost();
    let builder = Server::builder()
        .tls(cert.tls())
        .idle_timeout(Duration::from_secs(1)); // the request below comes before it, even on a loaded machine
    let server = start(builder, connection_reporter()).await;
    let stream = tls_connect(server.addr, client_config(&[&cert.der], &[b"h2"])).await;
    let (mut sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    let request = Request::get("https://localhost/facts")
        .body(Full::<Bytes>::default())
        .unwrap();
    let (status, body) = read(sender.send_request(request).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["alpn"], "h2");
    // No header read timeout applies to HTTP/2: the idle timeout ends the connection (GOAWAY).
    tokio::time::timeout(PATIENCE, conn)
        .await
        .expect("the server closed the idle HTTP/2 connection")
        .unwrap()
        .ok();
    server.shut_down().await;
}

#[tokio::test]
async fn a_request_past_the_request_timeout_gets_504() {
    let cert = cert_for_localhost();
    let slow = tower::service_fn(|_req: Request<Incoming>| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok::<_, Infallible>(Response::new(Full::<Bytes>::default()))
    });
    let builder = Server::builder()
        .tls(cert.tls())
        .request_timeout(Duration::from_millis(200));
    let server = start(builder, slow).await;
    let stream = tls_connect(server.addr, client_config(&[&cert.der], &[])).await;
    let (status, body) = send(&mut h1_over(stream).await, get("/slow")).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        body,
        r#"{"error":"timeout","message":"the request took longer than the server's request timeout"}"#
    );
    // A HEAD's 504 carries no body, which an HTTP/2 client would reset the stream for.
    let stream = tls_connect(server.addr, client_config(&[&cert.der], &[b"h2"])).await;
    let (mut h2, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let head = request(http::Method::HEAD, "/slow");
    let (status, _, body) = read_head(h2.send_request(head).await).await.unwrap();
    assert_eq!((status, body), (StatusCode::GATEWAY_TIMEOUT, Bytes::new()));
    server.shut_down().await;
}

#[tokio::test]
async fn a_full_server_holds_new_connections_until_a_slot_frees() {
    let cert = cert_for_localhost();
    let builder = Server::builder().tls(cert.tls()).max_connections(1);
    let server = start(builder, connection_reporter()).await;
    let config = client_config(&[&cert.der], &[]);

    let first = tls_connect(server.addr, config.clone()).await;
    let mut first = h1_over(first).await;
    assert_eq!(send(&mut first, get("/one")).await.0, StatusCode::OK);

    // The second connection waits in the listen queue: its handshake cannot finish...
    let second = tokio::spawn(tls_connect(server.addr, config));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !second.is_finished(),
        "a second connection was served beyond the limit"
    );
    // ...until the first one closes.
    drop(first);
    let second = tokio::time::timeout(PATIENCE, second)
        .await
        .expect("the held connection was served once a slot freed")
        .unwrap();
    let (status, _) = send(&mut h1_over(second).await, get("/two")).await;
    assert_eq!(status, StatusCode::OK);
    server.shut_down().await;
}

#[tokio::test]
async fn an_http2_connection_that_sends_no_request_frees_its_slot_after_the_header_read_timeout() {
    let cert = cert_for_localhost();
    let builder = Server::builder()
        .tls(cert.tls())
        .max_connections(1)
        .header_read_timeout(Duration::from_millis(500));
    // The idle timeout stays at its default (60 s): it is for connections that have served.
    let server = start(builder, connection_reporter()).await;

    // Completes TLS with `h2`, sends the client preface and an empty SETTINGS frame, and then
    // nothing: it would hold the only slot.
    let mut silent = tls_connect(server.addr, client_config(&[&cert.der], &[b"h2"])).await;
    silent
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(10), read_until_closed(&mut silent));
    closed
        .await
        .expect("a silent HTTP/2 connection was closed within 10 s, not after the idle timeout");

    // The slot is free again: the next client is served.
    let stream = tls_connect(server.addr, client_config(&[&cert.der], &[b"h2"])).await;
    let (mut sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let request = Request::get("https://localhost/facts")
        .body(Full::<Bytes>::default())
        .unwrap();
    let (status, _) = read(sender.send_request(request).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    server.shut_down().await;
}

#[tokio::test]
async fn one_address_cannot_take_every_slot_with_a_per_peer_limit() {
    let cert = cert_for_localhost();
    let builder = Server::builder()
        .tls(cert.tls())
        .max_connections(4)
        .max_connections_per_peer(2);
    let server = start(builder, connection_reporter()).await;
    let config = client_config(&[&cert.der], &[b"http/1.1"]);
    let connect = |local: &'static str| {
        let config = config.clone();
        async move {
            let tcp = connect_from(local, server.addr).await;
            TlsConnector::from(config)
                .connect(ServerName::try_from("localhost").unwrap(), tcp)
                .await
        }
    };
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut sender = h1_over(connect("127.0.0.1").await.unwrap()).await;
        assert_eq!(send(&mut sender, get("/held")).await.0, StatusCode::OK);
        held.push(sender);
    }
    // A third connection from the same address is closed at accept: no handshake.
    let third = tokio::time::timeout(PATIENCE, connect("127.0.0.1"))
        .await
        .expect("the third connection was closed, not held");
    assert!(
        third.is_err(),
        "a third connection from one address was served"
    );
    // Another address still gets the free slots.
    let mut other = h1_over(connect("127.0.0.2").await.unwrap()).await;
    assert_eq!(send(&mut other, get("/other")).await.0, StatusCode::OK);
    // Once one of its connections closes, the first address is served again.
    drop(held.pop());
    let again = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Ok(stream) = connect("127.0.0.1").await {
                break stream;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a connection from the first address was served once it held fewer");
    assert_eq!(
        send(&mut h1_over(again).await, get("/again")).await.0,
        StatusCode::OK
    );
    server.shut_down().await;
}

#[tokio::test]
async fn the_per_peer_limit_does_not_apply_to_a_trusted_load_balancer() {
    let builder = Server::builder()
        .behind_tls_terminator(
            "127.0.0.1".parse().unwrap(),
            "https://proxy.example.com".parse().unwrap(),
        )
        .max_connections_per_peer(1);
    let server = start(builder, connection_reporter()).await;
    // Every connection is the balancer's: all are served.
    let mut balancer = Vec::new();
    for _ in 0..3 {
        let mut proxy = h1_over(TcpStream::connect(server.addr).await.unwrap()).await;
        let mut request = get("/facts");
        request
            .headers_mut()
            .insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(send(&mut proxy, request).await.0, StatusCode::OK);
        balancer.push(proxy);
    }
    server.shut_down().await;
}

// ---- graceful shutdown --------------------------------------------------------------------

#[tokio::test]
async fn graceful_shutdown_completes_every_request_in_flight() {
    const IN_FLIGHT: usize = 5;
    let cert = cert_for_localhost();
    let started = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(tokio::sync::Notify::new());
    let (counter, gate) = (started.clone(), release.clone());
    let held = tower::service_fn(move |_req: Request<Incoming>| {
        let (counter, gate) = (counter.clone(), gate.clone());
        async move {
            let waiting = gate.notified();
            counter.fetch_add(1, Ordering::SeqCst);
            waiting.await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"done"))))
        }
    });
    let server = start(Server::builder().tls(cert.tls()), held).await;
    let addr = server.addr;
    let config = client_config(&[&cert.der], &[]);

    let mut requests = Vec::new();
    for i in 0..IN_FLIGHT {
        let config = config.clone();
        requests.push(tokio::spawn(async move {
            let mut sender = h1_over(tls_connect(addr, config).await).await;
            send(&mut sender, get(&format!("/work/{i}"))).await
        }));
    }
    while started.load(Ordering::SeqCst) < IN_FLIGHT {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let Running { stop, task, .. } = server;
    let _ = stop.map(|s| s.send(()));
    // The listener closes at once: no new connection is accepted.
    let mut refused = false;
    for _ in 0..50 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        refused,
        "the server still accepted connections after the shutdown signal"
    );
    assert!(
        !task.is_finished(),
        "the server stopped with requests in flight"
    );

    release.notify_waiters();
    for request in requests {
        assert_eq!(
            request.await.unwrap(),
            (StatusCode::OK, "done".to_owned()),
            "a request in flight was lost"
        );
    }
    tokio::time::timeout(PATIENCE, task)
        .await
        .expect("the server finished after its last request")
        .unwrap();
}

// ---- certificate reload -------------------------------------------------------------------

#[tokio::test]
async fn certificate_reload_keeps_open_connections() {
    let dir = tempfile::tempdir().unwrap();
    let old = cert_for_localhost();
    let new = cert_for_localhost();
    let (cert_path, key_path) = old.write(dir.path());
    let tls = TlsConfig::from_pem_files(&cert_path, &key_path).unwrap();
    let reload = tls.reload_handle();
    let server = start(Server::builder().tls(tls), connection_reporter()).await;
    let trust_both = client_config(&[&old.der, &new.der], &[]);

    let open = tls_connect(server.addr, trust_both.clone()).await;
    assert_eq!(peer_cert(&open), old.der);
    let mut open = h1_over(open).await;
    assert_eq!(send(&mut open, get("/before")).await.0, StatusCode::OK);

    // A renewed certificate that fails the checks is refused; the old one stays.
    std::fs::write(&key_path, &new.key_pem).unwrap();
    assert!(matches!(reload.reload(), Err(StartupError::KeyMismatch)));
    let check = tls_connect(server.addr, trust_both.clone()).await;
    assert_eq!(peer_cert(&check), old.der);

    // The good renewal: new handshakes get it, the open connection keeps working.
    new.write(dir.path());
    reload.reload().unwrap();
    let fresh = tls_connect(server.addr, trust_both).await;
    assert_eq!(peer_cert(&fresh), new.der);
    assert_eq!(send(&mut open, get("/after")).await.0, StatusCode::OK);
    server.shut_down().await;
}

fn peer_cert(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    stream.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

// ---- TLS session resumption ---------------------------------------------------------------

#[tokio::test]
async fn a_returning_client_resumes_its_tls_session_after_many_other_clients() {
    let cert = cert_for_localhost();
    let server = start(Server::builder().tls(cert.tls()), connection_reporter()).await;
    let addr = server.addr;
    // A connection with one request, so that the client has read the session tickets the
    // server sends after the handshake; answers how the handshake went.
    let visit = |config: Arc<rustls::ClientConfig>| async move {
        let stream = tls_connect(addr, config).await;
        let kind = stream.get_ref().1.handshake_kind();
        let mut sender = h1_over(stream).await;
        send(&mut sender, get("/health")).await;
        kind
    };
    let mut returning = (*client_config(&[&cert.der], &[b"http/1.1"])).clone();
    returning.resumption = rustls::client::Resumption::in_memory_sessions(8);
    let returning = Arc::new(returning);
    assert_eq!(visit(returning.clone()).await, Some(HandshakeKind::Full));

    // More clients than a server-side session cache of 256 remembers (TLS 1.3 issues two
    // tickets per handshake) come in between: a stateless ticket still resumes.
    let others = client_config(&[&cert.der], &[b"http/1.1"]);
    for _ in 0..200 {
        visit(others.clone()).await;
    }
    assert_eq!(visit(returning).await, Some(HandshakeKind::Resumed));
    server.shut_down().await;
}

#[tokio::test]
async fn a_tls12_session_is_resumed_neither_by_ticket_nor_by_session_id() {
    let cert = cert_for_localhost();
    let server = start(Server::builder().tls(cert.tls()), connection_reporter()).await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der.clone()).unwrap();
    // A TLS 1.2-only client that keeps sessions and asks for tickets (rustls's default).
    let mut tls12 = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS12])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tls12.resumption = rustls::client::Resumption::in_memory_sessions(8);
    let tls12 = Arc::new(tls12);
    let visit = |config: Arc<rustls::ClientConfig>| async move {
        let stream = tls_connect(server.addr, config).await;
        let session = stream.get_ref().1;
        assert_eq!(
            session.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_2)
        );
        let kind = session.handshake_kind();
        let mut sender = h1_over(stream).await;
        assert_eq!(send(&mut sender, get("/health")).await.0, StatusCode::OK);
        kind
    };
    assert_eq!(visit(tls12.clone()).await, Some(HandshakeKind::Full));
    // A TLS 1.2 session's secret is kept nowhere past its connection (no ticket sent on the
    // wire, no session cache), so the second visit cannot resume it.
    assert_eq!(
        visit(tls12).await,
        Some(HandshakeKind::Full),
        "a TLS 1.2 session was resumed"
    );
    server.shut_down().await;
}

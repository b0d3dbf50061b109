//! Automatic HTTPS against a real ACME CA: Pebble (Let's Encrypt's test CA) and
//! pebble-challtestsrv (its DNS), both started here on loopback ports with configs of their
//! own. They are a dependency like any other: where they are missing these tests fail
//! (`scripts/test` installs them).
//!
//! Pebble validates `proxy.nugu.test` (pointed at 127.0.0.1 by challtestsrv) with
//! TLS-ALPN-01 on the server's own port.
#![cfg(feature = "acme")]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use nugu_proxy::layer::ApiKey;
use nugu_proxy::server::{AcmeConfig, Server, StartupError, TlsConfig};
use nugu_proxy::testing::NuguRequest;
use nugu_proxy::{ActionRequest, ActionResponse, PrivatePlayLayer};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use common::https::{h1_over, nugu_post};
use common::pebble::{free_port, Pebble, DOMAIN};
use common::{client_config, API_KEY, PATIENCE};

/// A Private Play that answers every action `OK` and counts the requests it sees.
#[derive(Clone, Default)]
struct Play {
    requests: Arc<AtomicUsize>,
}

impl Play {
    fn service(&self) -> impl nugu_proxy::server::ProxyService {
        let requests = self.requests.clone();
        tower::ServiceBuilder::new()
            .layer(PrivatePlayLayer::new(ApiKey::new(API_KEY).unwrap()))
            .service_fn(move |req: Request<Full<Bytes>>| {
                requests.fetch_add(1, Ordering::SeqCst);
                async move {
                    let action = req.extensions().get::<ActionRequest>().unwrap();
                    Ok::<Response<Full<Bytes>>, Infallible>(
                        ActionResponse::from_request(action)
                            .output("answer", "yes")
                            .into_http(),
                    )
                }
            })
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

struct Running {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn shut_down(mut self) {
        let _ = self.stop.take().map(|stop| stop.send(()));
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the server shut down")
            .unwrap();
    }
}

fn serve(server: Server, play: &Play) -> Running {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_with_shutdown(play.service(), async {
        let _ = stopped.await;
    }));
    Running {
        stop: Some(stop),
        task,
    }
}

async fn bind(tls: TlsConfig, port: u16) -> Result<Server, StartupError> {
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    Server::builder().tls(tls).bind(addr).await
}

/// A TLS connection to `DOMAIN` on `port`, trusting only `root`, offering `alpn`.
async fn connect(
    port: u16,
    root: &CertificateDer<'static>,
    alpn: &[&[u8]],
) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tokio::time::timeout(
        PATIENCE,
        TlsConnector::from(client_config(&[root], alpn))
            .connect(ServerName::try_from(DOMAIN).unwrap(), tcp),
    )
    .await
    .expect("the handshake finished in time")
    .expect("the handshake succeeded")
}

fn serial(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let leaf = &stream.get_ref().1.peer_certificates().unwrap()[0];
    let (_, cert) = X509Certificate::from_der(leaf.as_ref()).unwrap();
    cert.raw_serial().to_vec()
}

/// A NUGU action request, as NUGU sends it.
fn ping() -> Request<Full<Bytes>> {
    let action = NuguRequest::action("ping");
    nugu_post(&action.path(), action.to_body())
}

/// A NUGU action over `stream`: the play's answer.
async fn ask(stream: TlsStream<TcpStream>) -> serde_json::Value {
    let mut sender = h1_over(stream).await;
    let response = sender.send_request(ping()).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

/// Every file under `dir` and its mode.
#[cfg(unix)]
fn files(dir: &Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            (entry.file_name().to_string_lossy().into_owned(), mode)
        })
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obtains_a_certificate_by_tls_alpn_01_then_restarts_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("acme");
    let port = free_port();
    let mut pebble = Pebble::start(dir.path(), port, Duration::from_secs(3600)).await;

    let tls = TlsConfig::acme(pebble.acme(&cache)).unwrap();
    // Debug names the domains and the CA, never the contact (an e-mail address).
    let debug = format!("{tls:?}");
    assert!(
        debug.contains(DOMAIN) && !debug.contains("ops@nugu.test"),
        "{debug}"
    );
    let server = tokio::time::timeout(Duration::from_secs(90), bind(tls, port))
        .await
        .expect("bind finished within the startup timeout")
        .expect("a certificate was obtained");
    let play = Play::default();
    let running = serve(server, &play);

    // Bind returned with a certificate: the health check answers 200 at once (there is no
    // "not ready" time to report as 503: until then no handshake could complete).
    let stream = connect(port, &pebble.issuing_root, &[b"http/1.1"]).await;
    let mut sender = h1_over(stream).await;
    let health = Request::get("/health")
        .header("host", DOMAIN)
        .body(Full::default())
        .unwrap();
    assert_eq!(sender.send_request(health).await.unwrap().status(), 200);

    // A client that trusts Pebble's root gets the play's answer.
    let stream = connect(port, &pebble.issuing_root, &[b"http/1.1"]).await;
    let first_serial = serial(&stream);
    let answer = ask(stream).await;
    assert_eq!(answer["output"]["answer"], "yes", "{answer}");
    assert_eq!(play.requests(), 1);
    running.shut_down().await;

    // The cache: a private directory of private files, no temporary file left.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let found = files(&cache);
        assert!(found.iter().all(|(_, mode)| *mode == 0o600), "{found:?}");
        assert!(
            found.iter().any(|(name, _)| name.starts_with("account-")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|(name, _)| name.starts_with(DOMAIN)),
            "{found:?}"
        );
        assert!(
            !found.iter().any(|(name, _)| name.ends_with(".tmp")),
            "{found:?}"
        );
    }

    // A restart with the CA gone serves the cached certificate at once.
    pebble.stop();
    let tls = TlsConfig::acme(pebble.acme(&cache)).unwrap();
    let server = tokio::time::timeout(Duration::from_secs(5), bind(tls, port))
        .await
        .expect("a cached certificate needs no CA")
        .unwrap();
    let running = serve(server, &play);
    let stream = connect(port, &pebble.issuing_root, &[b"http/1.1"]).await;
    assert_eq!(serial(&stream), first_serial);
    let answer = ask(stream).await;
    assert_eq!(answer["output"]["answer"], "yes");
    running.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renews_and_swaps_the_certificate_without_dropping_a_connection() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("acme");
    let port = free_port();
    // Renewal is due at two thirds: 8 s after issuance.
    let pebble = Pebble::start(dir.path(), port, Duration::from_secs(12)).await;
    let tls = TlsConfig::acme(pebble.acme(&cache)).unwrap();
    let server = bind(tls, port).await.expect("a certificate was obtained");
    let play = Play::default();
    let running = serve(server, &play);

    let open = connect(port, &pebble.issuing_root, &[b"http/1.1"]).await;
    let first = serial(&open);
    let mut kept = h1_over(open).await;
    let deadline = Instant::now() + Duration::from_secs(40);
    let renewed = loop {
        let stream = connect(port, &pebble.issuing_root, &[b"http/1.1"]).await;
        let now_serving = serial(&stream);
        if now_serving != first {
            break stream;
        }
        assert!(
            Instant::now() < deadline,
            "the certificate was never renewed"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // The new certificate answers, and the connection opened before the swap still does.
    assert_eq!(ask(renewed).await["output"]["answer"], "yes");
    let response = kept
        .send_request(ping())
        .await
        .expect("the connection opened before the renewal is still served");
    assert_eq!(response.status(), 200);
    // Pebble's validations of the renewal went through the serving loop: none reached the
    // service, only the two requests above did.
    assert_eq!(play.requests(), 2);
    running.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_down_at_first_start_is_a_clear_error_within_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("acme");
    let port = free_port();
    // A directory where nothing listens.
    let config = AcmeConfig::new([DOMAIN])
        .directory(format!("https://127.0.0.1:{}/dir", free_port()))
        .cache_dir(&cache)
        .startup_timeout(Duration::from_secs(3));
    let tls = TlsConfig::acme(config).unwrap();
    let started = Instant::now();
    let binding = tokio::spawn(tokio::time::timeout(
        Duration::from_secs(10),
        bind(tls, port),
    ));
    // Meanwhile the port is bound, and an ordinary handshake is refused at once (there is no
    // certificate to offer it), not left hanging.
    let deadline = Instant::now() + PATIENCE;
    let tcp = loop {
        if let Ok(tcp) = TcpStream::connect(("127.0.0.1", port)).await {
            break tcp;
        }
        assert!(Instant::now() < deadline, "the port was never bound");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let handshake = tokio::time::timeout(
        PATIENCE,
        TlsConnector::from(client_config(&[], &[b"http/1.1"]))
            .connect(ServerName::try_from(DOMAIN).unwrap(), tcp),
    )
    .await
    .expect("the handshake was refused in time");
    // Refused by the server (an alert), not by this client's trust in a certificate.
    let refusal = format!(
        "{:?}",
        match handshake {
            Ok(_) => panic!("no handshake without a certificate"),
            Err(e) => e,
        }
    );
    assert!(refusal.contains("AlertReceived"), "{refusal}");
    let refused = binding
        .await
        .unwrap()
        .expect("bind gave up within the bound");
    let error = refused.expect_err("no certificate without a CA");
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(
        matches!(error, StartupError::AcmeTimeout { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("no certificate from the ACME CA"),
        "{message}"
    );
    // Nothing half-written: the cache holds at most the lock.
    #[cfg(unix)]
    assert!(
        files(&cache).iter().all(|(name, _)| name == "lock"),
        "{:?}",
        files(&cache)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_handshake_never_reaches_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("acme");
    let port = free_port();
    let pebble = Pebble::start(dir.path(), port, Duration::from_secs(3600)).await;
    let tls = TlsConfig::acme(pebble.acme(&cache)).unwrap();
    let server = bind(tls, port).await.expect("a certificate was obtained");
    let play = Play::default();
    let running = serve(server, &play);

    // A handshake offering only acme-tls/1 with no challenge in progress gets no certificate.
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut config = (*client_config(&[&pebble.issuing_root], &[b"acme-tls/1"])).clone();
    config.alpn_protocols = vec![b"acme-tls/1".to_vec()];
    let refused = tokio::time::timeout(
        PATIENCE,
        TlsConnector::from(Arc::new(config)).connect(ServerName::try_from(DOMAIN).unwrap(), tcp),
    )
    .await
    .expect("the handshake finished in time");
    assert!(
        refused.is_err(),
        "a validation handshake without a challenge got a certificate"
    );

    // One that negotiates acme-tls/1 after all (offered next to another protocol) is closed
    // right after the handshake: a request sent on it gets no answer.
    let stream = connect(port, &pebble.issuing_root, &[b"acme-tls/1", b"x-other"]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"acme-tls/1"[..]));
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let sent = tokio::time::timeout(PATIENCE, sender.send_request(ping()))
        .await
        .expect("the server closed the connection in time");
    assert!(sent.is_err(), "a request over acme-tls/1 was answered");
    // The validations of the issuance and these handshakes: none reached the service.
    assert_eq!(play.requests(), 0);

    // And a real request still does.
    let stream = connect(port, &pebble.issuing_root, &[b"http/1.1"]).await;
    assert_eq!(ask(stream).await["output"]["answer"], "yes");
    assert_eq!(play.requests(), 1);
    running.shut_down().await;
}

/// Everything logged in this test binary, for the tests that check what is logged.
fn logs() -> Arc<std::sync::Mutex<Vec<u8>>> {
    static LOGS: std::sync::OnceLock<Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .init();
        logs
    })
    .clone()
}

struct LogWriter(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_renewal_is_logged_with_the_remaining_validity_and_the_old_certificate_serves() {
    let logs = logs();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("acme");
    let port = free_port();
    // Renewal is due 8 s after issuance, when the CA is gone.
    let mut pebble = Pebble::start(dir.path(), port, Duration::from_secs(12)).await;
    let tls = TlsConfig::acme(pebble.acme(&cache)).unwrap();
    let server = bind(tls, port).await.expect("a certificate was obtained");
    let play = Play::default();
    let running = serve(server, &play);
    let first = serial(&connect(port, &pebble.issuing_root, &[b"http/1.1"]).await);
    pebble.stop();

    let deadline = Instant::now() + Duration::from_secs(30);
    let failure = loop {
        let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
        if let Some(line) = text
            .lines()
            .find(|line| line.contains("ACME renewal failed"))
        {
            break line.to_owned();
        }
        assert!(Instant::now() < deadline, "no renewal failure was logged");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Within 7 days of expiry: an error, with what is left and when it is tried again.
    assert!(failure.contains("ERROR"), "{failure}");
    assert!(failure.contains("remaining="), "{failure}");
    assert!(failure.contains("retry_in="), "{failure}");
    // The contact address (personal data) is never logged.
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(!text.contains("ops@nugu.test"), "{text}");
    // The certificate in place still serves.
    let stream = connect(port, &pebble.issuing_root, &[b"http/1.1"]).await;
    assert_eq!(serial(&stream), first);
    assert_eq!(ask(stream).await["output"]["answer"], "yes");
    running.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_nonce_rejections_are_retried() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("acme");
    let port = free_port();
    // A quarter of the requests to the CA are refused `badNonce`: the client retries them.
    let pebble =
        Pebble::start_rejecting_nonces(dir.path(), port, Duration::from_secs(3600), 25).await;
    let tls = TlsConfig::acme(pebble.acme(&cache)).unwrap();
    let server = tokio::time::timeout(Duration::from_secs(90), bind(tls, port))
        .await
        .expect("bind finished within the startup timeout")
        .expect("a certificate was obtained despite the rejected nonces");
    let play = Play::default();
    let running = serve(server, &play);
    let stream = connect(port, &pebble.issuing_root, &[b"http/1.1"]).await;
    assert_eq!(ask(stream).await["output"]["answer"], "yes");
    running.shut_down().await;
}

#[test]
fn a_configuration_that_cannot_work_is_refused_before_anything_is_bound() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("acme");
    let refused = |config: AcmeConfig| match TlsConfig::acme(config) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    };
    for config in [
        AcmeConfig::new(Vec::<String>::new()).cache_dir(&cache),
        AcmeConfig::new(["*.nugu.test"]).cache_dir(&cache),
        AcmeConfig::new(["127.0.0.1"]).cache_dir(&cache),
        AcmeConfig::new([DOMAIN])
            .directory("http://127.0.0.1:14000/dir")
            .cache_dir(&cache),
        AcmeConfig::new([DOMAIN]),
    ] {
        let error = refused(config);
        assert!(
            matches!(error, StartupError::AcmeConfig { .. }),
            "{error:?}"
        );
    }
    let error = refused(
        AcmeConfig::new([DOMAIN])
            .cache_dir(&cache)
            .ca_root(dir.path().join("absent.pem")),
    );
    assert!(
        matches!(error, StartupError::AcmeCaRoot { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("AcmeConfig::ca_root"), "{error}");
}

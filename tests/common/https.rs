//! The crate's server under test over real TLS on 127.0.0.1: certificates, TLS and HTTP
//! clients, and NUGU requests as they cross the network. One definition for `tests/server.rs`
//! and the robustness suites.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use nugu_proxy::server::TlsConfig;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::{client_config, API_KEY, PATIENCE};

/// A certificate for `localhost` and its key (rcgen), as PEM and DER.
pub struct TestCert {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: CertificateDer<'static>,
}

/// A self-signed certificate for `localhost`, valid now.
pub fn cert_for_localhost() -> TestCert {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    TestCert {
        cert_pem: made.cert.pem(),
        key_pem: made.signing_key.serialize_pem(),
        der: made.cert.der().clone(),
    }
}

/// A self-signed certificate for `localhost`, valid between two dates (year, month, day).
pub fn cert_valid_between(not_before: (i32, u8, u8), not_after: (i32, u8, u8)) -> TestCert {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    TestCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        der: cert.der().clone(),
    }
}

impl TestCert {
    /// The server's TLS configuration for this certificate.
    pub fn tls(&self) -> TlsConfig {
        TlsConfig::from_pem(self.cert_pem.as_bytes(), self.key_pem.as_bytes()).unwrap()
    }

    /// Writes the PEM files into `dir`; returns (cert path, key path).
    pub fn write(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, &self.cert_pem).unwrap();
        std::fs::write(&key, &self.key_pem).unwrap();
        (cert, key)
    }
}

/// A TLS connection to `localhost` at `addr` with `config` (see `client_config`), the
/// handshake bounded by `PATIENCE`.
pub async fn tls_connect(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    tokio::time::timeout(
        PATIENCE,
        TlsConnector::from(config).connect(ServerName::try_from("localhost").unwrap(), tcp),
    )
    .await
    .expect("the TLS handshake finished in time")
    .unwrap()
}

pub type Sender = http1::SendRequest<Full<Bytes>>;

/// An HTTP/1.1 client (hyper) over `io`.
pub async fn h1_over<I>(io: I) -> Sender
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(TokioIo::new(io)).await.unwrap();
    tokio::spawn(conn);
    sender
}

/// An HTTP/1.1 client (hyper) on a fresh TLS connection that trusts `der`.
pub async fn h1_client(addr: SocketAddr, der: &CertificateDer<'static>) -> Sender {
    h1_over(tls_connect(addr, client_config(&[der], &[b"http/1.1"])).await).await
}

pub type H2Sender = http2::SendRequest<Full<Bytes>>;

/// An HTTP/2 client (hyper) on a fresh TLS connection that trusts `der`; clone it for more
/// streams.
pub async fn h2_client(addr: SocketAddr, der: &CertificateDer<'static>) -> H2Sender {
    let stream = tls_connect(addr, client_config(&[der], &[b"h2"])).await;
    let (sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

/// A NUGU POST as it crosses the network to the server (the server adds the transport proof):
/// `Host: localhost`, JSON, the right key.
pub fn nugu_post(path: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::post(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("authorization", format!("token {API_KEY}"))
        .body(Full::new(body.into()))
        .unwrap()
}

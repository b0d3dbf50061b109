//! Configuring the server: first the transport (the choice that matters), then the limits.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use super::addr::{PublicUrl, TrustedProxies};
use super::error::StartupError;
use super::serve::Server;
use super::tls::TlsConfig;

/// The first step of [`Server::builder`]: how requests prove they came over HTTPS.
///
/// There are exactly two ways, and no third one that speaks plain HTTP:
/// [`tls`](Self::tls) (this process terminates TLS) and
/// [`behind_tls_terminator`](Self::behind_tls_terminator) (a trusted load balancer does).
#[derive(Debug)]
#[must_use]
pub struct ChooseTransport {
    _private: (),
}

impl Server {
    /// Starts configuring a server. See [`ChooseTransport`].
    pub fn builder() -> ChooseTransport {
        ChooseTransport { _private: () }
    }
}

impl ChooseTransport {
    /// Direct TLS: this process terminates TLS with the given certificate (TLS 1.2 and 1.3,
    /// `h2` and `http/1.1` by ALPN).
    pub fn tls(self, tls: TlsConfig) -> ServerBuilder {
        ServerBuilder::new(Mode::Tls(tls), None)
    }

    /// Behind a TLS-terminating load balancer: the server speaks HTTP/1.1 over plain TCP, but
    /// only to the `proxies` (connections from any other address are closed at accept), and
    /// serves a request only when the proxy says it arrived over HTTPS
    /// (`X-Forwarded-Proto: https` or `Forwarded: proto=https`); any other request gets
    /// `403 Forbidden`. `public_url` is the https Web URL NUGU calls on the load balancer.
    pub fn behind_tls_terminator(
        self,
        proxies: TrustedProxies,
        public_url: PublicUrl,
    ) -> ServerBuilder {
        ServerBuilder::new(Mode::Terminator(proxies), Some(public_url))
    }
}

pub(crate) enum Mode {
    Tls(TlsConfig),
    Terminator(TrustedProxies),
}

/// A readiness check: `false` makes `GET {prefix}/health` answer 503.
pub(crate) type Readiness = Arc<dyn Fn() -> bool + Send + Sync>;

/// Everything the accept loop needs, fixed at bind time.
pub(crate) struct Config {
    pub(crate) mode: Mode,
    pub(crate) health_path: String,
    pub(crate) readiness: Option<Readiness>,
    pub(crate) handshake_timeout: Duration,
    pub(crate) header_read_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) shutdown_grace: Duration,
}

/// The server's settings after the transport is chosen; [`bind`](Self::bind) ends it.
///
/// ```
/// use std::time::Duration;
/// use nugu_proxy::server::{Server, TlsConfig};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
/// # let tls = TlsConfig::from_pem(cert.cert.pem().as_bytes(), cert.signing_key.serialize_pem().as_bytes())?;
/// // let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
/// let server = Server::builder()
///     .tls(tls)
///     .public_url("https://proxy.example.com/nugu".parse()?)
///     .request_timeout(Duration::from_secs(5))
///     .max_connections(256)
///     .bind("127.0.0.1:0".parse()?)
///     .await?;
/// assert_ne!(server.local_addr().port(), 0);
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct ServerBuilder {
    config: Config,
}

impl ServerBuilder {
    fn new(mode: Mode, public_url: Option<PublicUrl>) -> Self {
        let mut builder = Self {
            config: Config {
                mode,
                health_path: "/health".to_owned(),
                readiness: None,
                handshake_timeout: Duration::from_secs(10),
                header_read_timeout: Duration::from_secs(10),
                request_timeout: Duration::from_secs(10),
                max_connections: 1024,
                shutdown_grace: Duration::from_secs(30),
            },
        };
        if let Some(url) = public_url {
            builder = builder.public_url(url);
        }
        builder
    }

    /// The Web URL registered in Play Builder. Its path prefix places the health check at
    /// `{prefix}/health`; without one the health check is at `/health`.
    pub fn public_url(mut self, url: PublicUrl) -> Self {
        self.config.health_path = url.health_path();
        self
    }

    /// How long a client may take to complete the TLS handshake (default 10 s).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.config.handshake_timeout = timeout;
        self
    }

    /// How long an HTTP/1.1 client may take to send a request's headers, counted from when the
    /// server starts waiting for them, idle keep-alive time included (default 10 s).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_read_timeout = timeout;
        self
    }

    /// How long one request may take, reading its body and running the service; past it the
    /// client gets `504 Gateway Timeout` (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// At most this many connections at once (default 1024, at least 1). When full, the server
    /// stops accepting: further connections wait in the kernel's listen queue until a slot
    /// frees, rather than being accepted and dropped.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = max.max(1);
        self
    }

    /// After the shutdown signal, how long in-flight requests may take to finish before the
    /// remaining connections are closed (default 30 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.config.shutdown_grace = grace;
        self
    }

    /// A readiness check for `GET {prefix}/health`: while it returns `false` the answer is
    /// `503 Service Unavailable`. It runs on every health request, so keep it cheap (read a
    /// flag, don't call a database).
    pub fn readiness(mut self, ready: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        self.config.readiness = Some(Arc::new(ready));
        self
    }

    /// Binds the listening socket. Nothing is bound before this call, and every check on the
    /// TLS material and URLs has already passed by the time it can be made.
    pub async fn bind(self, addr: SocketAddr) -> Result<Server, StartupError> {
        let bind = |source| StartupError::Bind { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(bind)?;
        let local_addr = listener.local_addr().map_err(bind)?;
        Ok(Server::new(listener, local_addr, self.config))
    }
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        f.debug_struct("ServerBuilder")
            .field(
                "mode",
                &match &c.mode {
                    Mode::Tls(_) => "tls",
                    Mode::Terminator(_) => "behind_tls_terminator",
                },
            )
            .field("health_path", &c.health_path)
            .field("handshake_timeout", &c.handshake_timeout)
            .field("header_read_timeout", &c.header_read_timeout)
            .field("request_timeout", &c.request_timeout)
            .field("max_connections", &c.max_connections)
            .field("shutdown_grace", &c.shutdown_grace)
            .finish_non_exhaustive()
    }
}

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
    /// `403 Forbidden` and never reaches the service. The health check is the one exception,
    /// so that the load balancer's own probes work; it carries no personal data.
    /// `public_url` is the https Web URL NUGU calls on the load balancer.
    ///
    /// ```
    /// use nugu_proxy::server::Server;
    ///
    /// # fn main() -> Result<(), nugu_proxy::server::StartupError> {
    /// let builder = Server::builder().behind_tls_terminator(
    ///     "10.0.1.10, 10.0.2.10".parse()?,
    ///     "https://proxy.example.com/nugu".parse()?,
    /// );
    /// # drop(builder);
    /// # Ok(())
    /// # }
    /// ```
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
    /// The public URL's path without a trailing slash; `""` when none was given.
    pub(crate) path_prefix: String,
    pub(crate) readiness: Option<Readiness>,
    pub(crate) handshake_timeout: Duration,
    pub(crate) header_read_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) max_header_bytes: usize,
    pub(crate) max_concurrent_streams: u32,
    pub(crate) shutdown_grace: Duration,
}

impl Config {
    /// The size past which hyper itself refuses a request head (a bare `431`, no JSON): four
    /// times [`max_header_bytes`](ServerBuilder::max_header_bytes), at least 64 KiB. It also
    /// bounds each HTTP/1.1 connection's read buffer.
    pub(crate) fn hard_head_limit(&self) -> usize {
        self.max_header_bytes.saturating_mul(4).max(64 * 1024)
    }
}

/// The default of [`ServerBuilder::max_concurrent_streams`]: 32 requests at once on one HTTP/2
/// connection.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 32;

/// The default of [`ServerBuilder::max_header_bytes`]: 16 KiB. NUGU's requests carry a few
/// hundred bytes of headers.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;

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
///     .max_header_bytes(8 * 1024)
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
                path_prefix: String::new(),
                readiness: None,
                handshake_timeout: Duration::from_secs(10),
                header_read_timeout: Duration::from_secs(10),
                request_timeout: Duration::from_secs(10),
                idle_timeout: Duration::from_secs(60),
                max_connections: 1024,
                max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
                max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
                shutdown_grace: Duration::from_secs(30),
            },
        };
        if let Some(url) = public_url {
            builder = builder.public_url(url);
        }
        builder
    }

    /// The Web URL registered in Play Builder. Its path prefix places the health check at
    /// `{prefix}/health`, and the server answers it on the host root's `/health` as well (where
    /// the NUGU docs show it polled).
    ///
    /// NUGU calls nothing else outside the prefix, so a request whose path is not under it is
    /// answered `404 {"error":"not_found"}` by the server and never reaches the service.
    pub fn public_url(mut self, url: PublicUrl) -> Self {
        self.config.health_path = url.health_path();
        self.config.path_prefix = url.path_prefix().to_owned();
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

    /// How long a connection may have no request in flight before the server closes it
    /// gracefully (default 60 s). It matters for HTTP/2, whose clients send no headers the
    /// header read timeout could wait for; HTTP/1.1 connections are closed by that one first
    /// when it is shorter.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// At most this many connections at once (default 1024, at least 1). When full, the server
    /// stops accepting: further connections wait in the kernel's listen queue until a slot
    /// frees, rather than being accepted and dropped.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = max.max(1);
        self
    }

    /// The largest request head served, in bytes: the request target plus every header field
    /// counted as `name: value\r\n` (default [`DEFAULT_MAX_HEADER_BYTES`], 16 KiB). A larger
    /// head is answered `431 {"error":"headers_too_large"}` and never reaches the service.
    ///
    /// hyper itself gives up on a head that is still incomplete once its buffer holds four times
    /// this (at least 64 KiB; it checks between reads, so a head of up to about twice that may
    /// still arrive whole and get the typed answer), and on more than 100 header fields: such a
    /// request gets hyper's own `431` without a JSON body and the connection is closed.
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.config.max_header_bytes = bytes;
        self
    }

    /// At most this many requests at once on one HTTP/2 connection (default
    /// [`DEFAULT_MAX_CONCURRENT_STREAMS`], 32; at least 1), announced to the client, which
    /// queues the rest. Each request in flight may hold a body up to the layer's limit, so this
    /// times [`max_connections`](Self::max_connections) times the body limit bounds what
    /// clients can make the server buffer (hyper's own default, 200, would allow six times
    /// more).
    pub fn max_concurrent_streams(mut self, max: u32) -> Self {
        self.config.max_concurrent_streams = max.max(1);
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
            .field("idle_timeout", &c.idle_timeout)
            .field("max_connections", &c.max_connections)
            .field("max_header_bytes", &c.max_header_bytes)
            .field("max_concurrent_streams", &c.max_concurrent_streams)
            .field("shutdown_grace", &c.shutdown_grace)
            .finish_non_exhaustive()
    }
}

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
    pub(crate) send_timeout: Duration,
    pub(crate) max_connections: usize,
    /// Whether the application chose `max_connections` (the default may be lowered to fit the
    /// open-file limit; a chosen value is refused instead).
    pub(crate) max_connections_chosen: bool,
    pub(crate) max_connections_per_peer: Option<usize>,
    pub(crate) max_header_bytes: usize,
    pub(crate) max_concurrent_streams: u32,
    pub(crate) http2_stream_window: u32,
    pub(crate) http2_connection_window: u32,
    pub(crate) shutdown_grace: Duration,
    pub(crate) refusal_log_interval: Duration,
}

impl Config {
    /// See [`ServerBuilder::request_memory_bound`].
    pub(crate) fn request_memory_bound(&self, body_limit: usize) -> u64 {
        let bytes = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let (body, head, hard) = (
            bytes(body_limit),
            bytes(self.max_header_bytes),
            bytes(self.hard_head_limit()),
        );
        let http1 = body.saturating_add(hard.saturating_mul(2));
        let streams = u64::from(self.max_concurrent_streams);
        let http2 = u64::from(self.http2_connection_window)
            .saturating_add(streams.saturating_mul(body.saturating_add(head)))
            .saturating_add(hard);
        let worst = match self.mode {
            Mode::Tls(_) => http1.max(http2),
            Mode::Terminator(_) => http1,
        };
        bytes(self.max_connections).saturating_mul(worst)
    }

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

/// The default of [`ServerBuilder::http2_stream_window`]: 64 KiB, the default body limit, so that
/// a whole NUGU request body (a few KB) flows without waiting for the server.
pub const DEFAULT_HTTP2_STREAM_WINDOW: u32 = 64 * 1024;

/// The default of [`ServerBuilder::http2_connection_window`]: 256 KiB, room for many NUGU
/// requests at once (hyper's own default, 1 MiB, would let every connection park four times more).
pub const DEFAULT_HTTP2_CONNECTION_WINDOW: u32 = 256 * 1024;

/// HTTP/2's initial connection window, which a server can raise but not lower.
const HTTP2_MIN_CONNECTION_WINDOW: u32 = 65_535;

/// HTTP/2's largest window.
const HTTP2_MAX_WINDOW: u32 = (1 << 31) - 1;

/// The server's settings after the transport is chosen; [`bind`](Self::bind) ends it.
///
/// ```
/// use std::time::Duration;
/// use nugu_proxy::server::{Server, TlsConfig};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A self-signed certificate made on the spot (rcgen), so that the example runs anywhere;
/// // in production, the files your CA issued (or `TlsConfig::acme`, feature `acme`):
/// let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
/// let tls = TlsConfig::from_pem(cert.cert.pem().as_bytes(), cert.signing_key.serialize_pem().as_bytes())?;
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
                send_timeout: Duration::from_secs(10),
                max_connections: 1024,
                max_connections_chosen: false,
                max_connections_per_peer: None,
                max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
                max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
                http2_stream_window: DEFAULT_HTTP2_STREAM_WINDOW,
                http2_connection_window: DEFAULT_HTTP2_CONNECTION_WINDOW,
                shutdown_grace: Duration::from_secs(30),
                refusal_log_interval: Duration::from_secs(10),
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
    /// server starts waiting for them, idle keep-alive time included (default 10 s). Past it
    /// the connection is closed. A new HTTP/2 connection likewise has this long to send its
    /// first request, and is closed past it; from then on the [idle
    /// timeout](Self::idle_timeout) applies.
    ///
    /// This timeout, the [idle](Self::idle_timeout), [send](Self::send_timeout) and
    /// [shutdown grace](Self::shutdown_grace) are checked by each connection's watchdog every
    /// quarter of the shortest of them (at most every second), so each fires up to that much
    /// after it has passed; the request path itself reads no clock and arms no timer.
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

    /// How long a connection may have no request in flight (a request is in flight from its
    /// head until its response is sent) before the server closes it gracefully (default 60 s).
    /// It matters for HTTP/2 connections that have served a request (until their first one the
    /// [header read timeout](Self::header_read_timeout) applies); HTTP/1.1 connections are
    /// closed by the header read timeout first when it is shorter.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// How long a response body may make no progress before the response is reset and its
    /// connection closed (default 10 s). Progress is the body handing over its next piece,
    /// which happens only once the client has taken the previous one, so a client that never
    /// reads (an HTTP/2 window of 0, a TCP window that stays full) cannot hold its connection
    /// beyond this, and a service whose response body waits longer than this between pieces is
    /// cut off too. The clock starts when the response head is ready.
    ///
    /// ```
    /// use std::time::Duration;
    /// use nugu_proxy::server::{Server, TlsConfig};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    /// # let tls = TlsConfig::from_pem(cert.cert.pem().as_bytes(), cert.signing_key.serialize_pem().as_bytes())?;
    /// let builder = Server::builder().tls(tls).send_timeout(Duration::from_secs(5));
    /// # drop(builder);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.config.send_timeout = timeout;
        self
    }

    /// At most this many connections at once (default 1024, at least 1). When full, the server
    /// stops accepting: further connections wait in the kernel's listen queue until a slot
    /// frees, rather than being accepted and dropped.
    ///
    /// Each connection is an open file: [`bind`](Self::bind) raises the process's soft limit
    /// of open files (`RLIMIT_NOFILE`) to this plus 64 (the listener, the runtime, the
    /// application) where the hard limit allows. If it does not, a value set here is refused
    /// ([`StartupError::OpenFileLimit`]), and the default is lowered to fit, with a warning.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = max.max(1);
        self.config.max_connections_chosen = true;
        self
    }

    /// At most this many connections at once from one client (an IPv4 address, or an IPv6
    /// /64 prefix, which one host may hold whole); past it, a client's further connections are
    /// closed at accept, and counted in the [refusal summaries](Self::refusal_log_interval).
    /// Off by default. Direct TLS only: behind a TLS terminator every connection is the load
    /// balancer's, so there it has no effect (limit clients at the balancer).
    ///
    /// It keeps one client from taking every [connection slot](Self::max_connections). It is
    /// off by default because NUGU, the only legitimate caller, may reach the server from a
    /// single address; set it well above the connections NUGU keeps open (a Private Play's
    /// traffic needs few), e.g. a quarter of `max_connections`. Connections past it are closed
    /// rather than held in the listen queue like those past `max_connections`: the kernel's
    /// queue cannot be served out of order.
    ///
    /// ```
    /// use nugu_proxy::server::{Server, TlsConfig};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    /// # let tls = TlsConfig::from_pem(cert.cert.pem().as_bytes(), cert.signing_key.serialize_pem().as_bytes())?;
    /// let builder = Server::builder()
    ///     .tls(tls)
    ///     .max_connections(1024)
    ///     .max_connections_per_peer(256);
    /// # drop(builder);
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_connections_per_peer(mut self, max: usize) -> Self {
        self.config.max_connections_per_peer = Some(max.max(1));
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
    /// queues the rest. Each request in flight may hold a body up to the layer's limit and its
    /// head, so this is a factor of [`request_memory_bound`](Self::request_memory_bound)
    /// (hyper's own default, 200, would allow six times more).
    pub fn max_concurrent_streams(mut self, max: u32) -> Self {
        self.config.max_concurrent_streams = max.max(1);
        self
    }

    /// HTTP/2: how many bytes of one request's body a client may send before the server has
    /// read them (the stream's flow-control window; default [`DEFAULT_HTTP2_STREAM_WINDOW`],
    /// 64 KiB; between 1 and 2^31 - 1). Data that the service has not read yet is held by the
    /// server, so this and [`http2_connection_window`](Self::http2_connection_window) bound
    /// what a client can park there; see [`request_memory_bound`](Self::request_memory_bound).
    pub fn http2_stream_window(mut self, bytes: u32) -> Self {
        self.config.http2_stream_window = bytes.clamp(1, HTTP2_MAX_WINDOW);
        self
    }

    /// HTTP/2: how many bytes of request bodies a client may send on one connection, all its
    /// requests together, before the server has read them (the connection's flow-control
    /// window; default [`DEFAULT_HTTP2_CONNECTION_WINDOW`], 256 KiB; between 65 535, the
    /// protocol's initial window, and 2^31 - 1).
    pub fn http2_connection_window(mut self, bytes: u32) -> Self {
        self.config.http2_connection_window =
            bytes.clamp(HTTP2_MIN_CONNECTION_WINDOW, HTTP2_MAX_WINDOW);
        self
    }

    /// The most request data, in bytes, that clients can make this server hold at once, with
    /// a service that reads each request body up to `body_limit` bytes (the layer's
    /// [`body_limit`](crate::PrivatePlayLayer::body_limit)) and keeps it while it runs:
    /// `max_connections` times the worst connection.
    ///
    /// * An HTTP/2 connection: its connection window (data received, not yet read by the
    ///   service), plus, for each of `max_concurrent_streams` requests, the body read so far
    ///   (`body_limit`) and the request head (`max_header_bytes`; a larger head is refused when
    ///   it arrives), plus one header block still arriving (up to hyper's head limit, four
    ///   times `max_header_bytes`, at least 64 KiB).
    /// * An HTTP/1.1 connection: its body (`body_limit`) plus hyper's read buffer, which holds
    ///   at most the head limit and may be allocated up to twice that.
    ///
    /// Behind a TLS terminator only HTTP/1.1 is spoken. Not counted: the service's responses
    /// (reset after [`send_timeout`](Self::send_timeout) without progress), and what each
    /// connection costs whatever it sends (TLS and HTTP state, about 60 KiB in the soak of
    /// `SECURITY.md`).
    ///
    /// ```
    /// use nugu_proxy::server::{Server, TlsConfig};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    /// # let tls = TlsConfig::from_pem(cert.cert.pem().as_bytes(), cert.signing_key.serialize_pem().as_bytes())?;
    /// let builder = Server::builder().tls(tls);
    /// // At the defaults, with the layer's default body limit: about 2.8 GiB.
    /// let bound = builder.request_memory_bound(nugu_proxy::layer::DEFAULT_BODY_LIMIT);
    /// assert_eq!(bound, 1024 * (256 + 32 * (64 + 16) + 64) * 1024);
    /// // Fit it to the host: fewer connections, fewer streams each.
    /// let builder = builder.max_connections(256).max_concurrent_streams(4);
    /// assert!(builder.request_memory_bound(64 * 1024) < 200 * 1024 * 1024);
    /// # Ok(())
    /// # }
    /// ```
    pub fn request_memory_bound(&self, body_limit: usize) -> u64 {
        self.config.request_memory_bound(body_limit)
    }

    /// After the shutdown signal, how long in-flight requests may take to finish before the
    /// remaining connections are closed (default 30 s). The same grace applies to a single
    /// connection the server closes (idle, or not reading its responses): it is closed at most
    /// this long after it was asked to finish (HTTP/2: after its `GOAWAY`), whatever it still
    /// has in flight.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.config.shutdown_grace = grace;
        self
    }

    /// How often refusals that need no authentication to cause are logged, as one summary
    /// line per reason with its count (default 10 s, at least 1 ms): connections closed
    /// because they came from an untrusted address, requests refused `403 https_required`,
    /// requests answered `504` past the request timeout, connections closed past the
    /// [per-client limit](Self::max_connections_per_peer). Failed accepts (out of file
    /// descriptors) are summed up the same way. One line per refusal would let anyone flood
    /// the logs; the summaries carry counts only, no addresses and no request data.
    pub fn refusal_log_interval(mut self, interval: Duration) -> Self {
        self.config.refusal_log_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// A readiness check for `GET {prefix}/health`: while it returns `false` the answer is
    /// `503 Service Unavailable`. It runs on every health request, so keep it cheap (read a
    /// flag, don't call a database).
    pub fn readiness(mut self, ready: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        self.config.readiness = Some(Arc::new(ready));
        self
    }

    /// Makes room for [`max_connections`](Self::max_connections) in the process's limit of
    /// open files (raising its soft limit if need be), then binds the listening socket. With
    /// `TlsConfig::acme` (feature `acme`) and no cached certificate, it then obtains one before
    /// returning.
    /// Nothing is bound before this call, and every check on the TLS material and URLs has
    /// already passed by the time it can be made.
    ///
    /// On Unix this call also takes over `SIGHUP` for the rest of the process: a server whose
    /// certificate came from [`TlsConfig::from_pem_files`] reloads the files on `SIGHUP`
    /// (`kill -HUP <pid>`) while it serves, keeping open connections and, if the new files are
    /// refused, the current certificate; any other server ignores the signal. Call it within a
    /// Tokio runtime.
    pub async fn bind(mut self, addr: SocketAddr) -> Result<Server, StartupError> {
        self.config.max_connections = super::open_files::room_for(
            self.config.max_connections,
            self.config.max_connections_chosen,
        )?;
        let bind = |source| StartupError::Bind { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(bind)?;
        let local_addr = listener.local_addr().map_err(bind)?;
        // From here on `SIGHUP` reloads (or is ignored), never ends the process.
        let hangups = super::hangup::Hangups::listen();
        // With ACME and no cached certificate, the first one is obtained here, the CA's
        // validation answered on this very listener: bind returns ready to serve, or fails.
        #[cfg(feature = "acme")]
        if let Mode::Tls(TlsConfig {
            acceptor,
            acme: Some(acme),
            ..
        }) = &self.config.mode
        {
            acme.first_certificate(
                &listener,
                acceptor,
                self.config.handshake_timeout,
                self.config.max_connections,
            )
            .await?;
        }
        Ok(Server::new(listener, local_addr, self.config, hangups))
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
            .field("send_timeout", &c.send_timeout)
            .field("max_connections", &c.max_connections)
            .field("max_connections_per_peer", &c.max_connections_per_peer)
            .field("max_header_bytes", &c.max_header_bytes)
            .field("max_concurrent_streams", &c.max_concurrent_streams)
            .field("http2_stream_window", &c.http2_stream_window)
            .field("http2_connection_window", &c.http2_connection_window)
            .field("shutdown_grace", &c.shutdown_grace)
            .field("refusal_log_interval", &c.refusal_log_interval)
            .finish_non_exhaustive()
    }
}

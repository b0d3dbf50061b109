//! The accept loop: connection limit, TLS handshake with a deadline, HTTP/1.1 or HTTP/2 by
//! ALPN, graceful shutdown.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::rt::{Read, Write};
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioIo, TokioTimer};
use pin_project_lite::pin_project;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::builder::{Config, Mode};
use super::hangup::Hangups;
use super::log_summary::{Reason, RefusalLog};
use super::peer_limit::{PeerSlot, PeerSlots};
use super::pipeline::{Pipeline, ProxyService};
use super::stall::StreamExecutor;
use super::tls::ACME_TLS_ALPN;
use super::watchdog::{self, Limits, Order, Watched};
use crate::transport::{ConnectionInfo, TlsInfo, TlsVersion, Transport};

/// A bound HTTPS server; [`serve`](Self::serve) or
/// [`serve_with_shutdown`](Self::serve_with_shutdown) runs it.
///
/// Made by [`Server::builder`]. Every request the service sees carries a
/// [`ConnectionInfo`] in its extensions (peer address; protocol version, ALPN and SNI for TLS).
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    config: Arc<Config>,
    hangups: Hangups,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

/// The per-connection HTTP machinery, shared by every connection task.
struct Http {
    h1: http1::Builder,
    h2: http2::Builder<StreamExecutor>,
}

impl Http {
    fn new(config: &Config) -> Self {
        // Past the hard limit hyper answers a bare 431 itself; below it the pipeline answers the
        // typed one. It also bounds what one connection can make the server buffer.
        let hard_limit = config.hard_head_limit();
        let mut h1 = http1::Builder::new();
        // The header read timeout is the watchdog's (a connection waiting for a head has nothing
        // in flight): hyper's own would arm a timer for every request.
        h1.header_read_timeout(None).max_buf_size(hard_limit);
        // Every limit on what a client can make the server hold is set here, not left to
        // hyper's defaults (see `ServerBuilder::request_memory_bound`).
        let mut h2 = http2::Builder::new(StreamExecutor {
            send_timeout: config.send_timeout,
        });
        h2.timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(hard_limit).unwrap_or(u32::MAX))
            .max_concurrent_streams(config.max_concurrent_streams)
            .initial_stream_window_size(config.http2_stream_window)
            .initial_connection_window_size(config.http2_connection_window)
            .adaptive_window(false)
            // No keep-alive PINGs: a peer that vanished is already bounded by the idle timeout
            // (nothing in flight), the send timeout (a response it does not read) and the
            // request timeout, and the pings cost a timer poll on every connection wake.
            .keep_alive_interval(None);
        // The version is fixed per connection (by ALPN, or HTTP/1.1 behind a terminator), so
        // nothing waits, without a deadline, for the bytes that would tell them apart.
        Self { h1, h2 }
    }
}

pin_project! {
    /// One connection's HTTP, of the version its ALPN chose.
    #[project = HttpConnectionProj]
    enum HttpConnection<I, S>
    where
        I: Read,
        I: Write,
        I: Unpin,
        I: Send,
        I: 'static,
        S: ProxyService,
    {
        H1 { #[pin] conn: http1::Connection<I, Pipeline<S>> },
        H2 { #[pin] conn: http2::Connection<I, Pipeline<S>, StreamExecutor> },
    }
}

impl<I, S> HttpConnection<I, S>
where
    I: Read + Write + Unpin + Send + 'static,
    S: ProxyService,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        match self.project() {
            HttpConnectionProj::H1 { conn } => conn.graceful_shutdown(),
            HttpConnectionProj::H2 { conn } => conn.graceful_shutdown(),
        }
    }
}

impl<I, S> Future for HttpConnection<I, S>
where
    I: Read + Write + Unpin + Send + 'static,
    S: ProxyService,
{
    type Output = hyper::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            HttpConnectionProj::H1 { conn } => conn.poll(cx),
            HttpConnectionProj::H2 { conn } => conn.poll(cx),
        }
    }
}

impl Server {
    pub(crate) fn new(
        listener: TcpListener,
        local_addr: SocketAddr,
        config: Config,
        hangups: Hangups,
    ) -> Self {
        Self {
            listener,
            local_addr,
            config: Arc::new(config),
            hangups,
        }
    }

    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves `service` until the process is stopped by `SIGTERM` or Ctrl-C, then shuts down
    /// gracefully (see [`serve_with_shutdown`](Self::serve_with_shutdown)). `SIGHUP` reloads a
    /// certificate from files and is ignored otherwise (see [`bind`](super::ServerBuilder::bind)).
    pub async fn serve<S>(self, service: S)
    where
        S: ProxyService,
    {
        self.serve_with_shutdown(service, shutdown_signal()).await;
    }

    /// Serves `service` until `signal` completes, then shuts down gracefully: stops accepting,
    /// lets in-flight requests finish (closing idle keep-alive connections, sending HTTP/2
    /// `GOAWAY`), and after the [shutdown grace](super::ServerBuilder::shutdown_grace) closes
    /// whatever is left. Returns when every connection is closed.
    pub async fn serve_with_shutdown<S, F>(self, service: S, signal: F)
    where
        S: ProxyService,
        F: Future<Output = ()>,
    {
        let Server {
            listener,
            local_addr,
            config,
            mut hangups,
        } = self;
        let http = Arc::new(Http::new(&config));
        // `true` once the shutdown signal has come.
        let (stopping, stop) = watch::channel(false);
        let mut connections = JoinSet::new();
        let mut signal = std::pin::pin!(signal);
        let refusals = Arc::new(RefusalLog::default());
        let log_every = config.refusal_log_interval;
        // Behind a terminator every connection is a trusted balancer's: no per-client limit.
        let peer_slots = match (&config.mode, config.max_connections_per_peer) {
            (Mode::Tls(_), Some(max)) => Some(PeerSlots::new(max)),
            _ => None,
        };
        let mut log_summary = tokio::time::interval_at(Instant::now() + log_every, log_every);
        log_summary.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // ACME renewal runs as long as the accept loop, which answers its validations.
        #[cfg(feature = "acme")]
        let renewal = match &config.mode {
            Mode::Tls(tls) => tls
                .acme
                .clone()
                .map(|acme| tokio::spawn(acme.renew_forever())),
            Mode::Terminator(_) => None,
        };
        tracing::info!(addr = %local_addr, "serving");
        loop {
            // Ended connections are collected here, without a wake of this task for each (which
            // cost a new connection a context switch); only a full server waits for one to end.
            while let Some(done) = connections.try_join_next() {
                report(done);
            }
            tokio::select! {
                () = &mut signal => break,
                () = hangups.next() => super::hangup::on_hangup(&config.mode),
                _ = log_summary.tick() => refusals.flush(log_every),
                Some(done) = connections.join_next(), if connections.len() >= config.max_connections => {
                    report(done);
                }
                accepted = listener.accept(), if connections.len() < config.max_connections => {
                    let (tcp, peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            // Out of file descriptors and the like: back off, keep serving.
                            // Counted for the periodic summary rather than logged, as it
                            // repeats at every backoff for as long as it lasts.
                            refusals.record(Reason::AcceptFailed);
                            tracing::debug!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    if let Mode::Terminator(proxies) = &config.mode {
                        if !proxies.contains(peer.ip()) {
                            refusals.record(Reason::UntrustedPeer);
                            tracing::debug!(%peer, "closed a connection from an untrusted address");
                            continue;
                        }
                    }
                    let peer_slot = match &peer_slots {
                        Some(slots) => match slots.take(peer.ip()) {
                            Some(slot) => Some(slot),
                            None => {
                                refusals.record(Reason::PeerLimit);
                                tracing::debug!(%peer, "closed a connection past the per-client limit");
                                continue;
                            }
                        },
                        None => None,
                    };
                    let connection = Connection {
                        config: config.clone(),
                        http: http.clone(),
                        stop: stop.clone(),
                        refusals: refusals.clone(),
                        peer,
                        _peer_slot: peer_slot,
                    };
                    match &config.mode {
                        Mode::Tls(tls) => {
                            let acceptor = tls.acceptor.clone();
                            connections.spawn(connection.tls(tcp, acceptor, service.clone()));
                        }
                        Mode::Terminator(_) => {
                            connections.spawn(connection.forwarded(tcp, service.clone()));
                        }
                    }
                }
            }
        }
        drop(listener);
        #[cfg(feature = "acme")]
        if let Some(renewal) = renewal {
            renewal.abort();
        }
        tracing::info!(
            connections = connections.len(),
            "shutting down: finishing in-flight requests"
        );
        let _ = stopping.send(true);
        let drain = async { while connections.join_next().await.is_some() {} };
        if tokio::time::timeout(config.shutdown_grace, drain)
            .await
            .is_err()
        {
            tracing::warn!(
                connections = connections.len(),
                "shutdown grace elapsed; closing the remaining connections"
            );
            connections.abort_all();
        }
        while connections.join_next().await.is_some() {}
        refusals.flush(log_every);
        tracing::info!("shut down");
    }
}

/// Logs a connection task that panicked (the connection is gone; the server goes on).
fn report(ended: Result<(), tokio::task::JoinError>) {
    if ended.is_err_and(|e| e.is_panic()) {
        tracing::error!("a connection task panicked");
    }
}

/// One accepted connection, before its transport is set up.
struct Connection {
    config: Arc<Config>,
    http: Arc<Http>,
    /// Turns `true` when the server shuts down.
    stop: watch::Receiver<bool>,
    refusals: Arc<RefusalLog>,
    peer: SocketAddr,
    /// Held until the connection ends (see `ServerBuilder::max_connections_per_peer`).
    _peer_slot: Option<PeerSlot>,
}

impl Connection {
    async fn tls<S>(mut self, tcp: TcpStream, acceptor: TlsAcceptor, service: S)
    where
        S: ProxyService,
    {
        let _ = tcp.set_nodelay(true);
        let handshake = tokio::time::timeout(self.config.handshake_timeout, acceptor.accept(tcp));
        let stream = tokio::select! {
            done = handshake => match done {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(peer = %self.peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(peer = %self.peer, "TLS handshake timed out");
                    return;
                }
            },
            // No request is in flight yet: nothing to finish.
            _ = self.stop.wait_for(|stopping| *stopping) => return,
        };
        let session = stream.get_ref().1;
        let version = match session.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_2) => TlsVersion::Tls12,
            _ => TlsVersion::Tls13,
        };
        let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
        // An ACME TLS-ALPN-01 validation has had its challenge certificate: it ends here, never
        // reaching HTTP. (Only a config made by `TlsConfig::acme` offers this protocol.)
        if alpn.as_deref() == Some(ACME_TLS_ALPN) {
            tracing::debug!(peer = %self.peer, "answered an ACME TLS-ALPN-01 validation");
            return;
        }
        let h2 = alpn.as_deref() == Some(b"h2");
        let tls = TlsInfo::new(version, alpn, session.server_name().map(str::to_owned));
        let info = ConnectionInfo::new(self.peer, Transport::Tls(tls));
        self.serve(TokioIo::new(stream), info, false, h2, service)
            .await;
    }

    async fn forwarded<S>(self, tcp: TcpStream, service: S)
    where
        S: ProxyService,
    {
        let _ = tcp.set_nodelay(true);
        let info = ConnectionInfo::new(self.peer, Transport::TrustedProxy { proxy: self.peer });
        self.serve(TokioIo::new(tcp), info, true, false, service)
            .await;
    }

    async fn serve<I, S>(
        self,
        io: I,
        info: ConnectionInfo,
        require_forwarded_https: bool,
        h2: bool,
        service: S,
    ) where
        I: Read + Write + Unpin + Send + 'static,
        S: ProxyService,
    {
        let Connection {
            config,
            http,
            stop,
            refusals,
            peer,
            _peer_slot,
        } = self;
        // Waiting for a head (HTTP/2: the first one) is idleness that a client cannot stretch
        // past the header read timeout.
        let awaiting_head = config.idle_timeout.min(config.header_read_timeout);
        let limits = Limits {
            idle: if h2 {
                config.idle_timeout
            } else {
                awaiting_head
            },
            first_request: awaiting_head,
            http1_send: (!h2).then_some(config.send_timeout),
            grace: config.shutdown_grace,
        };
        let watched = Arc::new(Watched::default());
        let pipeline = Pipeline {
            config,
            extensions: info.request_extensions(),
            peer,
            require_forwarded_https,
            watched: watched.clone(),
            refusals,
            inner: service,
        };
        let mut connection = std::pin::pin!(if h2 {
            HttpConnection::H2 {
                conn: http.h2.serve_connection(io, pipeline),
            }
        } else {
            HttpConnection::H1 {
                conn: http.h1.serve_connection(io, pipeline),
            }
        });
        // The watchdog starts once the connection has lived a tick, or at once if the server
        // stops (see `watchdog::spawn`).
        let opened = Instant::now();
        let mut first_tick = std::pin::pin!(tokio::time::sleep(limits.tick()));
        let mut stopping = std::pin::pin!({
            let mut stop = stop.clone();
            async move {
                if stop.wait_for(|stopping| *stopping).await.is_err() {
                    // No server left to stop: never.
                    std::future::pending::<()>().await;
                }
            }
        });
        let mut watchdog = None;
        // Once asked to close, the connection finishes the requests it has received (HTTP/2:
        // sends GOAWAY), then ends, or is dropped when the watchdog says so.
        let mut closing = false;
        let ended = poll_fn(|cx| {
            if let Poll::Ready(ended) = connection.as_mut().poll(cx) {
                return Poll::Ready(Some(ended));
            }
            if watchdog.is_none()
                && (first_tick.as_mut().poll(cx).is_ready()
                    || stopping.as_mut().poll(cx).is_ready())
            {
                let stop = stop.clone();
                watchdog = Some(watchdog::spawn(watched.clone(), limits, stop, peer, opened));
            }
            match watched.signal.watch(cx) {
                Order::Abort => Poll::Ready(None),
                Order::Close if !closing => {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                    // Polled again: a connection with nothing in flight ends at once.
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                _ => Poll::Pending,
            }
        })
        .await;
        if let Some(Err(e)) = ended {
            tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
        }
    }
}

/// Completes on `SIGTERM` (Unix) or Ctrl-C: the usual signal for
/// [`Server::serve_with_shutdown`].
///
/// ```no_run
/// # async fn run(server: nugu_proxy::server::Server) {
/// # let service = tower::service_fn(|_req: http::Request<hyper::body::Incoming>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
/// server
///     .serve_with_shutdown(service, nugu_proxy::server::shutdown_signal())
///     .await;
/// # }
/// ```
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

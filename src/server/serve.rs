//! The accept loop: connection limit, TLS handshake with a deadline, HTTP/1.1 or HTTP/2 by
//! ALPN, graceful shutdown.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::rt::{Read, Write};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::builder::{Config, Mode};
use super::idle::Activity;
use super::log_summary::{Reason, RefusalLog};
use super::pipeline::{Pipeline, ProxyService};
use super::stall::{self, StreamExecutor};
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
    h1: auto::Builder<StreamExecutor>,
    h2: auto::Builder<StreamExecutor>,
}

impl Http {
    fn new(config: &Config) -> Self {
        let mut base = auto::Builder::new(StreamExecutor {
            send_timeout: config.send_timeout,
        });
        // Past the hard limit hyper answers a bare 431 itself; below it the pipeline answers the
        // typed one. It also bounds what one connection can make the server buffer.
        let hard_limit = config.hard_head_limit();
        base.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .max_buf_size(hard_limit);
        // Every limit on what a client can make the server hold is set here, not left to
        // hyper's defaults (see `ServerBuilder::request_memory_bound`).
        base.http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(hard_limit).unwrap_or(u32::MAX))
            .max_concurrent_streams(config.max_concurrent_streams)
            .initial_stream_window_size(config.http2_stream_window)
            .initial_connection_window_size(config.http2_connection_window)
            .adaptive_window(false)
            .keep_alive_interval(Some(Duration::from_secs(30)))
            .keep_alive_timeout(Duration::from_secs(10));
        // The version is fixed per connection (by ALPN, or HTTP/1.1 behind a terminator), so
        // hyper-util never waits, without a deadline, for the bytes that would tell them apart.
        Self {
            h1: base.clone().http1_only(),
            h2: base.http2_only(),
        }
    }
}

impl Server {
    pub(crate) fn new(listener: TcpListener, local_addr: SocketAddr, config: Config) -> Self {
        Self {
            listener,
            local_addr,
            config: Arc::new(config),
        }
    }

    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves `service` until the process is stopped by `SIGTERM` or Ctrl-C, then shuts down
    /// gracefully (see [`serve_with_shutdown`](Self::serve_with_shutdown)).
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
        } = self;
        let http = Arc::new(Http::new(&config));
        // `true` once the shutdown signal has come.
        let (stopping, stop) = watch::channel(false);
        let mut connections = JoinSet::new();
        let mut signal = std::pin::pin!(signal);
        let refusals = Arc::new(RefusalLog::default());
        let log_every = config.refusal_log_interval;
        let mut log_summary = tokio::time::interval_at(Instant::now() + log_every, log_every);
        log_summary.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tracing::info!(addr = %local_addr, "serving");
        loop {
            tokio::select! {
                () = &mut signal => break,
                _ = log_summary.tick() => refusals.flush(log_every),
                Some(done) = connections.join_next(), if !connections.is_empty() => {
                    if let Err(e) = done {
                        if e.is_panic() {
                            tracing::error!("a connection task panicked");
                        }
                    }
                }
                accepted = listener.accept(), if connections.len() < config.max_connections => {
                    let (tcp, peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            // Out of file descriptors and the like: back off, keep serving.
                            tracing::warn!(error = %e, "accept failed");
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
                    let connection = Connection {
                        config: config.clone(),
                        http: http.clone(),
                        stop: stop.clone(),
                        refusals: refusals.clone(),
                        peer,
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

/// One accepted connection, before its transport is set up.
struct Connection {
    config: Arc<Config>,
    http: Arc<Http>,
    /// Turns `true` when the server shuts down.
    stop: watch::Receiver<bool>,
    refusals: Arc<RefusalLog>,
    peer: SocketAddr,
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
            mut stop,
            refusals,
            peer,
        } = self;
        let Config {
            idle_timeout,
            send_timeout,
            shutdown_grace,
            ..
        } = *config;
        let activity = Activity::new();
        let pipeline = Pipeline {
            config,
            info,
            require_forwarded_https,
            activity: activity.clone(),
            refusals,
            inner: service,
        };
        let builder = if h2 { &http.h2 } else { &http.h1 };
        let mut connection = std::pin::pin!(builder.serve_connection(io, pipeline));
        // The clock of this connection's HTTP/1.1 responses (one at a time); an HTTP/2
        // connection's responses each have their own, in their stream's task.
        let sending = Activity::new();
        // Once asked to close, the connection finishes the requests it has received (HTTP/2:
        // sends GOAWAY), then ends, or is closed when the shutdown grace has passed.
        let mut close_by: Option<Instant> = None;
        let serving = async {
            loop {
                tokio::select! {
                    ended = connection.as_mut() => {
                        if let Err(e) = ended {
                            tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
                        }
                        return;
                    }
                    _ = stop.wait_for(|stopping| *stopping), if close_by.is_none() => {}
                    () = activity.idle_for(idle_timeout), if close_by.is_none() => {
                        tracing::debug!(peer = %peer, "closing an idle connection");
                    }
                    () = activity.close_requested(), if close_by.is_none() => {
                        tracing::debug!(peer = %peer, "closing a connection that does not read its responses");
                    }
                    () = sending.stalled_for(send_timeout), if !h2 => {
                        tracing::debug!(peer = %peer, "closed a connection whose response made no progress");
                        return;
                    }
                    () = tokio::time::sleep_until(close_by.unwrap_or_else(Instant::now)), if close_by.is_some() => {
                        tracing::debug!(peer = %peer, "closed a connection still open at the end of its shutdown grace");
                        return;
                    }
                }
                if close_by.is_none() {
                    connection.as_mut().graceful_shutdown();
                    close_by = Some(Instant::now() + shutdown_grace);
                }
            }
        };
        stall::watched(sending.clone(), serving).await;
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

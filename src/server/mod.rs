//! HTTPS-only serving of any tower service (feature `server`, on by default).
//!
//! NUGU rejects a Private Play whose backend proxy speaks plain HTTP, because every request
//! carries the enrolled user's personal data. This server cannot be built to speak plain HTTP
//! to anyone but a trusted TLS terminator:
//!
//! * [`Server::builder()`] first asks how requests prove HTTPS, and offers two answers only:
//!   [`tls`](ChooseTransport::tls) with a checked [`TlsConfig`] (rustls, TLS 1.2 and 1.3,
//!   HTTP/1.1 and HTTP/2 by ALPN), or
//!   [`behind_tls_terminator`](ChooseTransport::behind_tls_terminator) with a non-empty list of
//!   [`TrustedProxies`] and an `https` [`PublicUrl`]. The certificate of direct TLS comes from
//!   PEM files ([`TlsConfig::from_pem_files`]), memory ([`TlsConfig::from_pem`]) or, with the
//!   `acme` feature, an ACME CA such as Let's Encrypt (`TlsConfig::acme`), obtained and renewed
//!   by the server itself with TLS-ALPN-01 on its own port.
//! * Everything that can be wrong with the configuration is a [`StartupError`] before the
//!   socket is bound: missing, unreadable or malformed PEM, a key that is not the certificate's,
//!   a certificate outside its validity period, an `http://` public URL or listen address, an
//!   empty trusted-proxy list.
//! * Every request carries a [`ConnectionInfo`](crate::transport::ConnectionInfo) in its
//!   extensions: the proof of HTTPS that `PrivatePlayLayer` demands.
//! * `GET {prefix}/health` and `GET /health` are answered by the server itself (`200 OK`, or
//!   `503` while the [readiness check](ServerBuilder::readiness) fails), without
//!   authentication.
//! * Production limits: TLS handshake timeout, header read timeout, per-request timeout,
//!   idle-connection timeout, send timeout (a client that does not read its response),
//!   connection limit (with room made for it in the open-file limit at bind, and an opt-in
//!   [per-client limit](ServerBuilder::max_connections_per_peer)), HTTP/2 flow-control windows (see
//!   [`request_memory_bound`](ServerBuilder::request_memory_bound)), request head size limit
//!   (`431`), refusals before authentication logged as periodic summaries, graceful
//!   shutdown on `SIGTERM`/Ctrl-C, certificate reload on `SIGHUP` (built in from
//!   [`bind`](ServerBuilder::bind) on, for a certificate from files; ignored otherwise) or
//!   through a [`ReloadHandle`].
//! * Paths NUGU never calls are refused before the service: dot segments, empty segments and
//!   encoded separators (`400 bad_path`), and, with a public URL prefix, anything outside it
//!   (`404 not_found`).
//! * A `HEAD` gets the status and headers a `GET` gets and no body, from the server or the
//!   service alike, over HTTP/2 as over HTTP/1.1.
//! * A service that panics gets its request answered `500 {"error":"internal_error"}`; the
//!   connection and the process go on, and the panic message is neither sent nor logged.
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use hyper::body::Incoming;
//! use nugu_proxy::server::{Server, TlsConfig};
//! use nugu_proxy::transport::ConnectionInfo;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A self-signed certificate made on the spot (rcgen), so that the example runs anywhere;
//! // in production, the files your CA issued (or `TlsConfig::acme`, feature `acme`):
//! let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
//! let tls = TlsConfig::from_pem(cert.cert.pem().as_bytes(), cert.signing_key.serialize_pem().as_bytes())?;
//! // let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?; // `kill -HUP` reloads them
//!
//! let service = tower::service_fn(|req: Request<Incoming>| async move {
//!     let https = req.extensions().get::<ConnectionInfo>().is_some_and(|c| c.is_https());
//!     Ok::<_, Infallible>(Response::new(format!("https: {https}")))
//! });
//! let server = Server::builder()
//!     .tls(tls)
//!     .public_url("https://proxy.example.com/nugu".parse()?)
//!     .bind("127.0.0.1:0".parse()?)
//!     .await?;
//! // server.serve(service).await; // until SIGTERM or Ctrl-C
//! # server.serve_with_shutdown(service, async {}).await;
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "acme")]
mod acme;
mod addr;
mod body;
mod builder;
mod error;
mod forwarded;
mod future;
mod hangup;
mod health;
mod idle;
mod log_summary;
mod open_files;
mod panic;
mod path;
mod peer_limit;
mod pipeline;
mod serve;
mod stall;
mod tickets;
mod tls;
mod watchdog;

#[cfg(feature = "acme")]
pub use acme::{
    AcmeConfig, DEFAULT_ACME_STARTUP_TIMEOUT, LETS_ENCRYPT_PRODUCTION, LETS_ENCRYPT_STAGING,
};
pub use addr::{parse_listen_addr, PublicUrl, TrustedProxies};
pub use builder::{
    ChooseTransport, ServerBuilder, DEFAULT_HTTP2_CONNECTION_WINDOW, DEFAULT_HTTP2_STREAM_WINDOW,
    DEFAULT_MAX_CONCURRENT_STREAMS, DEFAULT_MAX_HEADER_BYTES,
};
pub use error::{PemKind, StartupError};
pub use pipeline::{BoxError, ProxyService};
pub use serve::{shutdown_signal, Server};
pub use tls::{ReloadHandle, TlsConfig};

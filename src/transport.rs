//! Connection facts that a server attaches to every request.
//!
//! NUGU rejects a Private Play whose backend proxy speaks plain HTTP, because the request carries
//! personal data. [`PrivatePlayLayer`](crate::PrivatePlayLayer) therefore *fails closed*: it only
//! lets a request through when the request's extensions hold a [`ConnectionInfo`] whose
//! [`Transport`] proves HTTPS. The crate's own server (feature `server`) inserts one on every
//! request; a server of your own must do the same after its TLS handshake
//! ([`ConnectionInfo::request_extensions`] makes the extensions to start each request with).
//!
//! The value is cheap to clone (one reference count), because it is copied into every request of
//! a connection.
//!
//! ```
//! use nugu_proxy::transport::{ConnectionInfo, TlsInfo, TlsVersion, Transport};
//!
//! let tls = TlsInfo::new(TlsVersion::Tls13, Some(b"h2".to_vec()), Some("proxy.example.com".into()));
//! let info = ConnectionInfo::new("203.0.113.7:50123".parse().unwrap(), Transport::Tls(tls));
//! assert!(info.is_https());
//! assert_eq!(info.tls().unwrap().alpn(), Some(&b"h2"[..]));
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

/// What a server knows about the connection a request arrived on.
///
/// Inserted into the request's extensions by the server; read by
/// [`PrivatePlayLayer`](crate::PrivatePlayLayer) as the proof that the request came over HTTPS.
#[derive(Clone)]
pub struct ConnectionInfo {
    inner: Arc<Inner>,
}

struct Inner {
    peer_addr: SocketAddr,
    transport: Transport,
}

impl ConnectionInfo {
    /// Describes a connection from `peer_addr` that arrived over `transport`.
    ///
    /// ```
    /// use nugu_proxy::transport::{ConnectionInfo, Transport};
    ///
    /// let proxy = "10.0.0.2:443".parse().unwrap();
    /// let info = ConnectionInfo::new(proxy, Transport::TrustedProxy { proxy });
    /// assert_eq!(info.peer_addr(), proxy);
    /// ```
    pub fn new(peer_addr: SocketAddr, transport: Transport) -> Self {
        Self {
            inner: Arc::new(Inner {
                peer_addr,
                transport,
            }),
        }
    }

    /// The address of the peer that opened the TCP connection (a load balancer in terminator
    /// mode).
    pub fn peer_addr(&self) -> SocketAddr {
        self.inner.peer_addr
    }

    /// How the connection was secured.
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// The TLS facts, when this process terminated TLS itself.
    pub fn tls(&self) -> Option<&TlsInfo> {
        match &self.inner.transport {
            Transport::Tls(tls) => Some(tls),
            Transport::TrustedProxy { .. } => None,
        }
    }

    /// Whether the request is known to have crossed the network over HTTPS.
    pub fn is_https(&self) -> bool {
        match &self.inner.transport {
            Transport::Tls(_) | Transport::TrustedProxy { .. } => true,
        }
    }

    /// The extensions to start each request of this connection with: this value, in a map
    /// that already has room for the values [`PrivatePlayLayer`](crate::PrivatePlayLayer)
    /// adds. Make it once per connection and give each request a clone.
    ///
    /// Inserting this value into a request's empty extensions works as well; this only saves
    /// work: `http::Extensions` cannot reserve, and the map its first insert makes holds three
    /// values, so this value and the layer's four would grow it (a second allocation and a
    /// rehash) on every request. The crate's server does this.
    ///
    /// ```
    /// use nugu_proxy::transport::{ConnectionInfo, Transport};
    ///
    /// let proxy = "10.0.0.2:443".parse().unwrap();
    /// let template = ConnectionInfo::new(proxy, Transport::TrustedProxy { proxy }).request_extensions();
    ///
    /// // For each request of the connection:
    /// let mut request = http::Request::new(());
    /// request.extensions_mut().extend(template.clone());
    /// assert!(request.extensions().get::<ConnectionInfo>().unwrap().is_https());
    /// ```
    pub fn request_extensions(&self) -> http::Extensions {
        // Placeholders grow the map to its next size, then leave. Boxing a zero-sized value
        // does not allocate; a removal does not shrink the map, and a clone keeps its size.
        #[derive(Clone)]
        struct Room<const N: usize>;
        let mut extensions = http::Extensions::new();
        extensions.insert(Room::<0>);
        extensions.insert(Room::<1>);
        extensions.insert(Room::<2>);
        extensions.insert(Room::<3>);
        extensions.insert(self.clone());
        extensions.remove::<Room<0>>();
        extensions.remove::<Room<1>>();
        extensions.remove::<Room<2>>();
        extensions.remove::<Room<3>>();
        extensions
    }
}

impl fmt::Debug for ConnectionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionInfo")
            .field("peer_addr", &self.inner.peer_addr)
            .field("transport", &self.inner.transport)
            .finish()
    }
}

/// How a request's connection was secured. Every variant is a form of HTTPS: there is no plain
/// variant, so a request without a `ConnectionInfo` is the only way to say "not HTTPS".
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Transport {
    /// This process terminated TLS.
    Tls(TlsInfo),
    /// A trusted TLS-terminating proxy forwarded the request and said it arrived over HTTPS
    /// (`X-Forwarded-Proto: https` or `Forwarded: proto=https`).
    TrustedProxy {
        /// The proxy's address (one of the configured trusted addresses).
        proxy: SocketAddr,
    },
}

/// The negotiated TLS protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

/// Facts of a TLS session terminated by this process.
#[derive(Clone, Debug)]
pub struct TlsInfo {
    version: TlsVersion,
    alpn: Option<Vec<u8>>,
    sni: Option<String>,
}

impl TlsInfo {
    /// Records a handshake's outcome: protocol version, negotiated ALPN protocol and the server
    /// name the client asked for.
    ///
    /// ```
    /// use nugu_proxy::transport::{TlsInfo, TlsVersion};
    ///
    /// let tls = TlsInfo::new(TlsVersion::Tls12, None, None);
    /// assert_eq!(tls.version(), TlsVersion::Tls12);
    /// ```
    pub fn new(version: TlsVersion, alpn: Option<Vec<u8>>, sni: Option<String>) -> Self {
        Self { version, alpn, sni }
    }

    /// The negotiated protocol version.
    pub fn version(&self) -> TlsVersion {
        self.version
    }

    /// The negotiated ALPN protocol (`h2`, `http/1.1`), if any.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.alpn.as_deref()
    }

    /// The server name (SNI) the client sent, if any.
    pub fn sni(&self) -> Option<&str> {
        self.sni.as_deref()
    }
}

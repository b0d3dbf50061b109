//! Why the server refused to start.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A refusal to start (or to reload a certificate), returned before any socket is bound.
///
/// Every message names what is wrong and what to do about it, in the library's terms (builder
/// methods and values; an application maps them to its own flags). No message ever contains key
/// material: a PEM error names the file and the kind of problem, never the bytes. The operating
/// system's reason of [`ReadPem`](Self::ReadPem) and [`Bind`](Self::Bind) is their
/// [`source`](std::error::Error::source), not repeated in the message: print the chain.
///
/// `Debug` prints the message and then its causes, so a `main` that returns this error (or a
/// `Box<dyn Error>` holding it) with `?` prints what a person can act on:
///
/// ```
/// use nugu_proxy::server::TlsConfig;
///
/// let error = TlsConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
/// assert_eq!(
///     format!("Error: {error:?}"),
///     "Error: cannot read the TLS certificate file /nonexistent/cert.pem; check the path and \
///      that this process may read it\n\nCaused by:\n    No such file or directory (os error 2)",
/// );
/// ```
#[non_exhaustive]
pub enum StartupError {
    /// Only one of the certificate and the private key was given.
    MissingTlsMaterial {
        /// The one that is missing.
        missing: PemKind,
    },
    /// A certificate or key file could not be read.
    ReadPem {
        /// Which of the two files.
        what: PemKind,
        /// The path that was tried.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The certificate PEM holds no `CERTIFICATE` block, or the key PEM holds no private key.
    MissingPem {
        /// Which of the two inputs.
        what: PemKind,
        /// Where it came from (a path, or `<memory>`).
        origin: String,
    },
    /// The PEM text (or the DER inside it) could not be parsed.
    MalformedPem {
        /// Which of the two inputs.
        what: PemKind,
        /// Where it came from (a path, or `<memory>`).
        origin: String,
        /// What the parser said (never the input bytes).
        reason: String,
    },
    /// The private key is not the key of the certificate's public key.
    KeyMismatch,
    /// The certificate is outside its validity period.
    CertificateNotValidNow {
        /// `not before` from the certificate, RFC 2822-ish text.
        not_before: String,
        /// `not after` from the certificate.
        not_after: String,
        /// Whether it has expired (true) or is not valid yet (false).
        expired: bool,
    },
    /// The public URL (the Web URL registered in Play Builder) is not a valid `https` URL.
    PublicUrlNotHttps {
        /// The URL as given.
        url: String,
    },
    /// The public URL could not be parsed at all.
    MalformedPublicUrl {
        /// The URL as given.
        url: String,
    },
    /// The listen address names the plain `http` scheme, or is not an address.
    BadListenAddress {
        /// The address as given.
        addr: String,
        /// Whether it was refused because it asked for plain HTTP.
        plain_http: bool,
    },
    /// Terminator mode was asked for with an empty list of trusted proxies.
    NoTrustedProxies,
    /// A trusted proxy entry is not an IP address.
    BadTrustedProxy {
        /// The entry as given.
        entry: String,
    },
    /// [`ReloadHandle::reload`](super::ReloadHandle::reload) was called on a configuration
    /// made from memory, which has no files to read again.
    NoFilesToReload,
    /// rustls refused the TLS configuration.
    Tls(String),
    /// [`max_connections`](super::ServerBuilder::max_connections) needs more open files than
    /// the process's hard limit (`RLIMIT_NOFILE`) allows. (A soft limit below what is needed is
    /// raised at [`bind`](super::ServerBuilder::bind).)
    OpenFileLimit {
        /// The open files the server needs: one per connection, plus a reserve for the
        /// listener, the runtime and the application.
        needed: u64,
        /// The most this process may open (its hard limit).
        limit: u64,
    },
    /// The [`AcmeConfig`](super::AcmeConfig) cannot work (no domain, a name TLS-ALPN-01
    /// cannot validate, a plain-HTTP directory URL, no cache directory).
    #[cfg(feature = "acme")]
    AcmeConfig {
        /// What is wrong, and what to give instead.
        reason: String,
    },
    /// The ACME cache directory or one of its files could not be created, read or locked.
    #[cfg(feature = "acme")]
    AcmeCache {
        /// The directory or file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The [CA root](super::AcmeConfig::ca_root) file holds no readable PEM certificate.
    #[cfg(feature = "acme")]
    AcmeCaRoot {
        /// The path that was tried.
        path: PathBuf,
    },
    /// No certificate could be obtained from the ACME CA within the
    /// [startup timeout](super::AcmeConfig::startup_timeout).
    #[cfg(feature = "acme")]
    AcmeTimeout {
        /// The CA's directory URL.
        directory: String,
        /// How long it was tried.
        waited: std::time::Duration,
        /// Why the last attempt failed (the CA's problem, or why it was unreachable).
        last_error: String,
    },
    /// The listening socket could not be bound.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The operating system's reason.
        source: io::Error,
    },
}

/// Which PEM input a [`StartupError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PemKind {
    /// The certificate chain (`cert` of [`TlsConfig::from_pem_files`](super::TlsConfig::from_pem_files)).
    Certificate,
    /// The private key (`key` of [`TlsConfig::from_pem_files`](super::TlsConfig::from_pem_files)).
    PrivateKey,
}

impl fmt::Display for PemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PemKind::Certificate => "certificate",
            PemKind::PrivateKey => "private key",
        })
    }
}

impl StartupError {
    pub(crate) fn origin(path: Option<&Path>) -> String {
        path.map_or_else(|| "<memory>".to_owned(), |p| p.display().to_string())
    }
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartupError::MissingTlsMaterial { missing } => write!(
                f,
                "no TLS {missing} was given: the server only speaks HTTPS and needs both the \
                 certificate chain and its private key (TlsConfig::from_pem_files(cert, key))"
            ),
            StartupError::ReadPem { what, path, .. } => write!(
                f,
                "cannot read the TLS {what} file {}; check the path and that this process may \
                 read it",
                path.display()
            ),
            StartupError::MissingPem {
                what: PemKind::Certificate,
                origin,
            } => write!(
                f,
                "no certificate found in {origin}: give a PEM file with at least one \
                 `-----BEGIN CERTIFICATE-----` block (leaf first, then intermediates)"
            ),
            StartupError::MissingPem {
                what: PemKind::PrivateKey,
                origin,
            } => write!(
                f,
                "no private key found in {origin}: give a PEM file with a `PRIVATE KEY`, \
                 `RSA PRIVATE KEY` or `EC PRIVATE KEY` block"
            ),
            StartupError::MalformedPem {
                what,
                origin,
                reason,
            } => write!(
                f,
                "the TLS {what} in {origin} is malformed ({reason}); give a PEM-encoded file \
                 as issued by your certificate authority"
            ),
            StartupError::KeyMismatch => f.write_str(
                "the private key does not match the certificate; give the key the certificate \
                 was issued for (the first certificate in the file must be the server's own)",
            ),
            StartupError::CertificateNotValidNow {
                not_before,
                not_after,
                expired: true,
            } => write!(
                f,
                "the TLS certificate expired on {not_after} (valid from {not_before}); renew it \
                 and restart or reload"
            ),
            StartupError::CertificateNotValidNow {
                not_before,
                not_after,
                expired: false,
            } => write!(
                f,
                "the TLS certificate is not valid before {not_before} (valid until {not_after}); \
                 check the system clock or use a certificate that is valid now"
            ),
            StartupError::PublicUrlNotHttps { url } => write!(
                f,
                "the public URL {url:?} is not https: NUGU rejects a Private Play whose backend \
                 proxy uses plain HTTP; register and give an https:// Web URL"
            ),
            StartupError::MalformedPublicUrl { url } => write!(
                f,
                "the public URL {url:?} is not a URL; give the Web URL registered in Play \
                 Builder, e.g. https://proxy.example.com/nugu"
            ),
            StartupError::BadListenAddress {
                addr,
                plain_http: true,
            } => write!(
                f,
                "the listen address {addr:?} asks for plain HTTP, which this server never \
                 speaks: give an address such as 0.0.0.0:8443 (TLS), or run behind a \
                 TLS-terminating load balancer (ServerBuilder::behind_tls_terminator)"
            ),
            StartupError::BadListenAddress {
                addr,
                plain_http: false,
            } => write!(
                f,
                "the listen address {addr:?} is not an IP address and port, e.g. 127.0.0.1:8443"
            ),
            StartupError::NoTrustedProxies => f.write_str(
                "behind-TLS-terminator mode needs at least one trusted proxy address (the load \
                 balancer's IP); without one every connection would be plain HTTP from anyone",
            ),
            StartupError::BadTrustedProxy { entry } => write!(
                f,
                "the trusted proxy {entry:?} is not an IP address; give the load balancer's \
                 address, e.g. 10.0.0.2"
            ),
            StartupError::NoFilesToReload => f.write_str(
                "this TLS configuration was made from memory, so there are no files to reload; \
                 use ReloadHandle::replace_pem, or build it with TlsConfig::from_pem_files",
            ),
            StartupError::Tls(reason) => write!(f, "the TLS configuration was refused: {reason}"),
            StartupError::OpenFileLimit { needed, limit } => write!(
                f,
                "max_connections needs up to {needed} open files (one per connection, plus {} \
                 for the listener, the runtime and the application), but this process may open \
                 at most {limit} (its hard limit of open files, RLIMIT_NOFILE): lower \
                 max_connections to {} or less, or raise the hard limit (`ulimit -Hn`, systemd \
                 `LimitNOFILE=`, `docker run --ulimit nofile=`)",
                super::open_files::RESERVED,
                limit.saturating_sub(super::open_files::RESERVED),
            ),
            #[cfg(feature = "acme")]
            StartupError::AcmeConfig { reason } => {
                write!(f, "the ACME configuration cannot work: {reason}")
            }
            #[cfg(feature = "acme")]
            StartupError::AcmeCache { path, .. } => write!(
                f,
                "cannot use the ACME cache at {}; check that this process may create and write \
                 it (AcmeConfig::cache_dir)",
                path.display()
            ),
            #[cfg(feature = "acme")]
            StartupError::AcmeCaRoot { path } => write!(
                f,
                "no PEM certificate could be read from the ACME CA root {}; give the PEM root \
                 that the directory's HTTPS certificate chains to (AcmeConfig::ca_root)",
                path.display()
            ),
            #[cfg(feature = "acme")]
            StartupError::AcmeTimeout {
                directory,
                waited,
                last_error,
            } => write!(
                f,
                "no certificate from the ACME CA {directory} within {waited:?} (last attempt: \
                 {last_error}); check that the directory is reachable, that each domain \
                 resolves to this host and that port 443 reaches this server"
            ),
            StartupError::Bind { addr, .. } => write!(
                f,
                "cannot listen on {addr}; pick a free port or an address of this host"
            ),
        }
    }
}

crate::report::debug_as_report!(StartupError);

impl std::error::Error for StartupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartupError::ReadPem { source, .. } | StartupError::Bind { source, .. } => {
                Some(source)
            }
            #[cfg(feature = "acme")]
            StartupError::AcmeCache { source, .. } => Some(source),
            _ => None,
        }
    }
}

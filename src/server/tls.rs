//! TLS material: loading and checking PEM files, and swapping the certificate while serving.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, NoServerSessionStorage, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{InconsistentKeys, ServerConfig};
use tokio_rustls::TlsAcceptor;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::time::ASN1Time;

use super::error::{PemKind, StartupError};
use super::tickets::Tls13Tickets;

/// The server's certificate chain and private key, checked and ready to serve.
///
/// Building one is the only way to start the server in direct-TLS mode, and it refuses
/// (with a [`StartupError`]) material that could not serve NUGU: missing or malformed PEM, a key
/// that is not the certificate's, a certificate outside its validity period.
///
/// The server speaks TLS 1.3 and TLS 1.2 only (rustls, ring provider) and offers `h2` and
/// `http/1.1` by ALPN.
///
/// # Session resumption
///
/// TLS 1.3 sessions resume with stateless tickets (keys made in memory, rotated every 6 hours,
/// a ticket accepted for at most 12), so that a returning client resumes however many others
/// came in between. A ticket key that leaks does not expose recorded TLS 1.3 traffic: the
/// ticket travels encrypted, every resumption runs a fresh ECDHE exchange (`psk_dhe_ke`, the
/// only mode rustls accepts), and no 0-RTT data is accepted.
///
/// TLS 1.2 sessions are not resumed at all. A TLS 1.2 ticket holds the session's master secret
/// and is sent in the clear, so whoever recorded a handshake and later obtained the ticket key
/// (within its rotation window) could decrypt that session and every one resumed from it; a
/// session cache instead would keep the master secret in memory until evicted. Either way
/// forward secrecy would end when the key or the cache entry goes, not with the connection. A
/// TLS 1.2 client pays a full handshake for each new connection instead.
///
/// ```
/// use nugu_proxy::server::{StartupError, TlsConfig};
///
/// let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
/// let tls = TlsConfig::from_pem(cert.cert.pem().as_bytes(), cert.signing_key.serialize_pem().as_bytes())?;
///
/// // Someone else's key is refused before anything is bound.
/// let other = rcgen::KeyPair::generate()?;
/// let refused = TlsConfig::from_pem(cert.cert.pem().as_bytes(), other.serialize_pem().as_bytes());
/// assert!(matches!(refused, Err(StartupError::KeyMismatch)));
/// # drop(tls);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TlsConfig {
    pub(crate) acceptor: TlsAcceptor,
    reload: ReloadHandle,
}

impl TlsConfig {
    /// Reads and checks a PEM certificate chain (leaf first) and its PEM private key (PKCS#8,
    /// PKCS#1 or SEC1).
    ///
    /// The paths are remembered, so [`ReloadHandle::reload`] reads them again (for a renewed
    /// certificate).
    pub fn from_pem_files(
        cert_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Result<Self, StartupError> {
        let files = PemFiles {
            cert: cert_path.as_ref().to_path_buf(),
            key: key_path.as_ref().to_path_buf(),
        };
        let key = files.load()?;
        Self::with_key(key, Some(Arc::new(files)))
    }

    /// Checks an in-memory PEM certificate chain and private key.
    ///
    /// [`ReloadHandle::reload`] has no files to read for such a configuration; use
    /// [`ReloadHandle::replace_pem`] instead.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, StartupError> {
        Self::with_key(certified_key(cert_pem, key_pem, None, None)?, None)
    }

    fn with_key(
        key: Arc<CertifiedKey>,
        files: Option<Arc<PemFiles>>,
    ) -> Result<Self, StartupError> {
        let resolver = Arc::new(SwappableCert {
            current: RwLock::new(key),
        });
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| StartupError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        // Stateless session tickets (keys rotated every 6 h, in memory only): a client that
        // reconnects resumes however many others came in between, where rustls's default cache
        // of 256 sessions forgets it after ~128 other handshakes (BENCHMARKS.md, new connections).
        // TLS 1.3 sessions only, and no session cache for TLS 1.2 either (see the type's docs).
        config.ticketer = Tls13Tickets::make().map_err(|e| StartupError::Tls(e.to_string()))?;
        config.session_storage = Arc::new(NoServerSessionStorage {});
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            reload: ReloadHandle { resolver, files },
        })
    }

    /// A handle that replaces the certificate while the server runs.
    pub fn reload_handle(&self) -> ReloadHandle {
        self.reload.clone()
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("files", &self.reload.files)
            .finish_non_exhaustive()
    }
}

/// Replaces the served certificate without dropping open connections.
///
/// New handshakes use the new certificate; connections already established keep their
/// session. A replacement is checked like a startup certificate, and a refused one leaves the
/// current certificate in place.
///
/// ```
/// use nugu_proxy::server::TlsConfig;
///
/// let first = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
/// let tls = TlsConfig::from_pem(first.cert.pem().as_bytes(), first.signing_key.serialize_pem().as_bytes())?;
/// let reload = tls.reload_handle();
///
/// let renewed = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
/// reload.replace_pem(renewed.cert.pem().as_bytes(), renewed.signing_key.serialize_pem().as_bytes())?;
/// // A configuration made from memory has no files to read again.
/// assert!(reload.reload().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ReloadHandle {
    resolver: Arc<SwappableCert>,
    files: Option<Arc<PemFiles>>,
}

impl ReloadHandle {
    /// Reads the certificate and key files again and, if they pass the startup checks, serves
    /// them from the next handshake on.
    pub fn reload(&self) -> Result<(), StartupError> {
        let files = self.files.as_ref().ok_or(StartupError::NoFilesToReload)?;
        self.resolver.set(files.load()?);
        tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
        Ok(())
    }

    /// Checks an in-memory certificate chain and key and, if they pass, serves them from the
    /// next handshake on.
    pub fn replace_pem(&self, cert_pem: &[u8], key_pem: &[u8]) -> Result<(), StartupError> {
        self.resolver
            .set(certified_key(cert_pem, key_pem, None, None)?);
        tracing::info!("TLS certificate replaced");
        Ok(())
    }
}

impl fmt::Debug for ReloadHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadHandle")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct PemFiles {
    cert: PathBuf,
    key: PathBuf,
}

impl PemFiles {
    fn load(&self) -> Result<Arc<CertifiedKey>, StartupError> {
        let read = |what, path: &Path| {
            std::fs::read(path).map_err(|source| StartupError::ReadPem {
                what,
                path: path.to_path_buf(),
                source,
            })
        };
        let cert = read(PemKind::Certificate, &self.cert)?;
        let key = read(PemKind::PrivateKey, &self.key)?;
        certified_key(&cert, &key, Some(&self.cert), Some(&self.key))
    }
}

/// The certificate resolver the server's rustls config holds: one certificate, swappable.
struct SwappableCert {
    current: RwLock<Arc<CertifiedKey>>,
}

impl SwappableCert {
    fn set(&self, key: Arc<CertifiedKey>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = key;
    }
}

impl ResolvesServerCert for SwappableCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

impl fmt::Debug for SwappableCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SwappableCert")
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Parses and checks one certificate chain and key: PEM well-formed, key matches the leaf,
/// leaf valid now.
fn certified_key(
    cert_pem: &[u8],
    key_pem: &[u8],
    cert_path: Option<&Path>,
    key_path: Option<&Path>,
) -> Result<Arc<CertifiedKey>, StartupError> {
    let pem_error = |what, path, e: pem::Error| match e {
        pem::Error::NoItemsFound => StartupError::MissingPem {
            what,
            origin: StartupError::origin(path),
        },
        other => StartupError::MalformedPem {
            what,
            origin: StartupError::origin(path),
            reason: pem_reason(&other).to_owned(),
        },
    };
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(PemKind::Certificate, cert_path, e))?;
    let leaf = chain.first().ok_or_else(|| StartupError::MissingPem {
        what: PemKind::Certificate,
        origin: StartupError::origin(cert_path),
    })?;
    check_validity(leaf, cert_path)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| pem_error(PemKind::PrivateKey, key_path, e))?;
    match CertifiedKey::from_der(chain, key, &provider()) {
        Ok(certified) => Ok(Arc::new(certified)),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            Err(StartupError::KeyMismatch)
        }
        Err(rustls::Error::General(_)) => Err(StartupError::MalformedPem {
            what: PemKind::PrivateKey,
            origin: StartupError::origin(key_path),
            reason: "not an RSA, ECDSA (P-256/P-384) or Ed25519 private key".to_owned(),
        }),
        Err(other) => Err(StartupError::Tls(other.to_string())),
    }
}

/// A fixed description of a PEM error: the parser's own messages can quote input lines.
fn pem_reason(e: &pem::Error) -> &'static str {
    match e {
        pem::Error::MissingSectionEnd { .. } => "a PEM section has no END line",
        pem::Error::IllegalSectionStart { .. } => "a PEM BEGIN line is malformed",
        pem::Error::Base64Decode(_) => "a PEM section is not valid base64",
        _ => "not readable as PEM",
    }
}

fn check_validity(leaf: &CertificateDer<'_>, path: Option<&Path>) -> Result<(), StartupError> {
    let (_, cert) =
        X509Certificate::from_der(leaf.as_ref()).map_err(|_| StartupError::MalformedPem {
            what: PemKind::Certificate,
            origin: StartupError::origin(path),
            reason: "the first certificate is not a valid X.509 certificate".to_owned(),
        })?;
    let validity = cert.validity();
    let now = ASN1Time::now();
    if validity.is_valid_at(now) {
        return Ok(());
    }
    Err(StartupError::CertificateNotValidNow {
        not_before: validity.not_before.to_string(),
        not_after: validity.not_after.to_string(),
        expired: now > validity.not_after,
    })
}

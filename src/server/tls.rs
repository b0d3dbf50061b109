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

/// The ALPN protocol of an ACME TLS-ALPN-01 validation (RFC 8737). Only a configuration made by
/// `TlsConfig::acme` offers it; a handshake that negotiates it gets the challenge certificate
/// and is closed, never reaching HTTP.
pub(crate) const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

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
    /// Where the certificate comes from and goes to with [`TlsConfig::acme`].
    #[cfg(feature = "acme")]
    pub(crate) acme: Option<Arc<super::acme::Acme>>,
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

    /// Certificates from an ACME CA (Let's Encrypt, a company CA), obtained and renewed by the
    /// server itself (feature `acme`). See [`AcmeConfig`](super::AcmeConfig).
    ///
    /// A certificate in the cache that is valid now is served at once. Without one,
    /// [`bind`](super::ServerBuilder::bind) obtains one before it returns (answering the CA's
    /// TLS-ALPN-01 validation on the bound port, and refusing every other handshake, having no
    /// certificate to offer), or fails with [`StartupError::AcmeTimeout`] after the
    /// [startup timeout](super::AcmeConfig::startup_timeout). So there is no time during which
    /// the health check would answer `503` for want of a certificate: until `bind` returns no
    /// HTTPS request can be made at all.
    ///
    /// While the server runs, the certificate is renewed at two thirds of its lifetime and
    /// swapped in for new handshakes without dropping a connection. A failed renewal is logged
    /// with the remaining validity and retried with backoff (30 s, doubling up to an hour); one
    /// within 7 days of expiry is logged as an error.
    ///
    /// This checks the configuration and opens the cache; it does not contact the CA.
    #[cfg(feature = "acme")]
    pub fn acme(config: super::AcmeConfig) -> Result<Self, StartupError> {
        let (mut acme, cached) = super::acme::Acme::new(config)?;
        let resolver = Arc::new(SwappableCert {
            current: RwLock::new(cached),
            challenges: Some(acme.challenges.clone()),
        });
        acme.attach(resolver.clone());
        let mut tls = Self::with_resolver(resolver, None)?;
        let mut config = ServerConfig::clone(tls.acceptor.config());
        config.alpn_protocols.push(ACME_TLS_ALPN.to_vec());
        tls.acceptor = TlsAcceptor::from(Arc::new(config));
        tls.acme = Some(Arc::new(acme));
        Ok(tls)
    }

    fn with_key(
        key: Arc<CertifiedKey>,
        files: Option<Arc<PemFiles>>,
    ) -> Result<Self, StartupError> {
        let resolver = Arc::new(SwappableCert {
            current: RwLock::new(Some(key)),
            #[cfg(feature = "acme")]
            challenges: None,
        });
        Self::with_resolver(resolver, files)
    }

    fn with_resolver(
        resolver: Arc<SwappableCert>,
        files: Option<Arc<PemFiles>>,
    ) -> Result<Self, StartupError> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| StartupError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        // The server's cipher-suite order (the provider's: AES-GCM first, forward-secret only)
        // wins over the client's, so a client cannot steer a connection to its weakest choice.
        config.ignore_client_order = true;
        // Stateless session tickets (keys rotated every 6 h, in memory only): a client that
        // reconnects resumes however many others came in between, where rustls's default cache
        // of 256 sessions forgets it after ~128 other handshakes (BENCHMARKS.md, new connections).
        // TLS 1.3 sessions only, and no session cache for TLS 1.2 either (see the type's docs).
        config.ticketer = Tls13Tickets::make().map_err(|e| StartupError::Tls(e.to_string()))?;
        config.session_storage = Arc::new(NoServerSessionStorage {});
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            reload: ReloadHandle { resolver, files },
            #[cfg(feature = "acme")]
            acme: None,
        })
    }

    /// Whether the certificate comes from an ACME CA ([`TlsConfig::acme`]).
    pub(crate) fn is_acme(&self) -> bool {
        #[cfg(feature = "acme")]
        return self.acme.is_some();
        #[cfg(not(feature = "acme"))]
        false
    }

    /// A handle that replaces the certificate while the server runs.
    pub fn reload_handle(&self) -> ReloadHandle {
        self.reload.clone()
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("TlsConfig");
        debug.field("files", &self.reload.files);
        #[cfg(feature = "acme")]
        debug.field("acme", &self.acme);
        debug.finish_non_exhaustive()
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

/// The certificate resolver the server's rustls config holds: one certificate, swappable
/// (and, with ACME, none until the first is obtained, and the challenge certificates).
pub(crate) struct SwappableCert {
    current: RwLock<Option<Arc<CertifiedKey>>>,
    #[cfg(feature = "acme")]
    challenges: Option<Arc<super::acme::Challenges>>,
}

impl SwappableCert {
    #[cfg(feature = "acme")]
    pub(crate) fn empty() -> Self {
        Self {
            current: RwLock::new(None),
            challenges: None,
        }
    }

    pub(crate) fn set(&self, key: Arc<CertifiedKey>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(key);
    }

    #[cfg(feature = "acme")]
    pub(crate) fn has_certificate(&self) -> bool {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}

impl ResolvesServerCert for SwappableCert {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // A TLS-ALPN-01 validation gets its challenge certificate or nothing, never the
        // server's own.
        #[cfg(feature = "acme")]
        if let Some(validation) = self
            .challenges
            .as_ref()
            .and_then(|challenges| challenges.for_validation(&hello))
        {
            return validation;
        }
        let _ = hello;
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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
pub(crate) fn certified_key(
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

//! Certificates from an ACME CA (RFC 8555), obtained and renewed by the server itself, with the
//! TLS-ALPN-01 challenge (RFC 8737) answered on its own TLS port (feature `acme`).
//!
//! The ACME client is [instant-acme](https://docs.rs/instant-acme) on ring: a plain client, so
//! the server keeps its own accept loop, handshake limits, certificate resolver and reload
//! machinery, where rustls-acme would bring its own acceptor and incoming stream.

mod cache;
mod challenge;

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::sign::CertifiedKey;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use self::cache::Cache;
pub(crate) use self::challenge::Challenges;
use super::error::StartupError;
use super::tls::SwappableCert;

/// Let's Encrypt's production directory: publicly trusted certificates, with rate limits.
pub const LETS_ENCRYPT_PRODUCTION: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging directory: untrusted certificates, generous limits; try a deployment
/// here first.
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

/// How long [`bind`](super::ServerBuilder::bind) waits for a first certificate by default.
pub const DEFAULT_ACME_STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// The first wait after a failed renewal; it doubles up to [`RENEW_RETRY_MAX`].
const RENEW_RETRY_FIRST: Duration = Duration::from_secs(30);
/// The longest wait between renewal attempts, and so how often a failing renewal of a
/// certificate close to expiry is logged.
const RENEW_RETRY_MAX: Duration = Duration::from_secs(3600);
/// Within this of expiry, a failed renewal is an emergency.
const EXPIRY_WARNING: Duration = Duration::from_secs(7 * 24 * 3600);

/// Where the server's certificate comes from with [`TlsConfig::acme`](super::TlsConfig::acme):
/// an ACME CA, for the given domains.
///
/// The CA validates each domain with TLS-ALPN-01 on the server's own TLS port, so the domains
/// must resolve to this host and port 443 must reach the server (directly or by a TCP, not
/// TLS-terminating, forward). No plain-HTTP listener is ever opened.
///
/// The first order creates an account with the CA, which agrees to the CA's terms of service
/// (for Let's Encrypt, its Subscriber Agreement); its key is kept in the
/// [cache](Self::cache_dir).
///
/// ```
/// use nugu_proxy::server::{AcmeConfig, TlsConfig, LETS_ENCRYPT_STAGING};
///
/// # let dir = tempfile::tempdir()?;
/// # let cache = dir.path().join("acme");
/// let tls = TlsConfig::acme(
///     AcmeConfig::new(["proxy.example.com"])
///         .contact("mailto:ops@example.com")
///         .directory(LETS_ENCRYPT_STAGING)
///         .cache_dir(&cache), // e.g. /var/lib/nugu-proxy/acme
/// )?;
/// # drop(tls);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct AcmeConfig {
    domains: Vec<String>,
    contacts: Vec<String>,
    directory: String,
    cache_dir: Option<PathBuf>,
    ca_root: Option<PathBuf>,
    startup_timeout: Duration,
}

impl AcmeConfig {
    /// Certificates for `domains` (DNS names, no wildcards: TLS-ALPN-01 cannot validate
    /// them), from [Let's Encrypt](LETS_ENCRYPT_PRODUCTION) unless [`directory`](Self::directory)
    /// says otherwise.
    pub fn new<I, S>(domains: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            domains: domains.into_iter().map(Into::into).collect(),
            contacts: Vec::new(),
            directory: LETS_ENCRYPT_PRODUCTION.to_owned(),
            cache_dir: None,
            ca_root: None,
            startup_timeout: DEFAULT_ACME_STARTUP_TIMEOUT,
        }
    }

    /// A contact for the CA's notices (`mailto:ops@example.com`; a bare address gets
    /// `mailto:`). Optional; may be given several times.
    pub fn contact(mut self, contact: impl Into<String>) -> Self {
        let contact = contact.into();
        self.contacts.push(if contact.contains(':') {
            contact
        } else {
            format!("mailto:{contact}")
        });
        self
    }

    /// The CA's directory URL (`https` only): [`LETS_ENCRYPT_PRODUCTION`] (the default),
    /// [`LETS_ENCRYPT_STAGING`], or any other CA's (a company CA, Pebble).
    pub fn directory(mut self, url: impl Into<String>) -> Self {
        self.directory = url.into();
        self
    }

    /// The directory that keeps the account key and the certificates across restarts
    /// (required). Created mode 0700 (an existing one is set to 0700), files 0600, replaced
    /// atomically; several processes may share it.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// A PEM file with the root certificate that the directory's own HTTPS chains to, for a CA
    /// served under a private root (a company CA, Pebble). With it, only this root is trusted
    /// for talking to the CA; without it, the system's roots are. Nothing else is changed.
    pub fn ca_root(mut self, pem_file: impl Into<PathBuf>) -> Self {
        self.ca_root = Some(pem_file.into());
        self
    }

    /// How long [`bind`](super::ServerBuilder::bind) may take to obtain a first certificate
    /// when none is cached, retrying with backoff (default
    /// [`DEFAULT_ACME_STARTUP_TIMEOUT`]); past it, it fails with
    /// [`StartupError::AcmeTimeout`].
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    fn check(&self) -> Result<(), StartupError> {
        let refuse = |reason: String| Err(StartupError::AcmeConfig { reason });
        if self.domains.is_empty() {
            return refuse("no domain was given (AcmeConfig::new([\"proxy.example.com\"]))".into());
        }
        for domain in &self.domains {
            let dns = rustls::pki_types::ServerName::try_from(domain.as_str());
            if !matches!(dns, Ok(rustls::pki_types::ServerName::DnsName(_))) || domain.contains('*')
            {
                return refuse(format!(
                    "{domain:?} is not a DNS name that TLS-ALPN-01 can validate (no IP addresses, no wildcards)"
                ));
            }
        }
        if !self.directory.starts_with("https://") {
            return refuse(format!(
                "the directory URL {:?} is not https: the account key and certificates must not travel in the clear",
                self.directory
            ));
        }
        if self.cache_dir.is_none() {
            return refuse(
                "no cache directory was given (AcmeConfig::cache_dir): without one every restart \
                 would order a new certificate and soon hit the CA's rate limits"
                    .into(),
            );
        }
        if let Some(root) = &self.ca_root {
            let readable = CertificateDer::from_pem_file(root).is_ok();
            if !readable {
                return Err(StartupError::AcmeCaRoot { path: root.clone() });
            }
        }
        Ok(())
    }

    /// File names in the cache: one account per directory, one certificate per directory and
    /// domain list.
    fn cache_names(&self) -> (String, String) {
        let hash = |text: &str| {
            let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
            digest.as_ref()[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        let first = self.domains.first().map_or("", String::as_str);
        (
            format!("account-{}.json", hash(&self.directory)),
            format!(
                "{first}-{}.pem",
                hash(&format!("{}\n{}", self.directory, self.domains.join("\n")))
            ),
        )
    }
}

impl fmt::Debug for AcmeConfig {
    // The contact is an operator's e-mail address: personal data, left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcmeConfig")
            .field("domains", &self.domains)
            .field("directory", &self.directory)
            .field("cache_dir", &self.cache_dir)
            .field("ca_root", &self.ca_root)
            .field("startup_timeout", &self.startup_timeout)
            .finish_non_exhaustive()
    }
}

/// A certificate's validity, in seconds since the Unix epoch.
#[derive(Clone, Copy, Debug)]
struct Validity {
    not_before: i64,
    not_after: i64,
}

impl Validity {
    fn of(key: &CertifiedKey) -> Option<Self> {
        let leaf = key.end_entity_cert().ok()?;
        let (_, cert) = X509Certificate::from_der(leaf.as_ref()).ok()?;
        Some(Self {
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
        })
    }

    /// Renewal is due at two thirds of the lifetime (Let's Encrypt's own advice).
    fn renew_at(self) -> i64 {
        self.not_before + (self.not_after - self.not_before) * 2 / 3
    }

    fn remaining(self) -> Duration {
        Duration::from_secs(u64::try_from(self.not_after - now()).unwrap_or(0))
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The ACME side of a [`TlsConfig`](super::TlsConfig): its configuration, cache, challenge
/// certificates and the resolver that serves what it obtains.
pub(crate) struct Acme {
    config: AcmeConfig,
    cache: Cache,
    account_file: String,
    cert_file: String,
    pub(crate) challenges: Arc<Challenges>,
    resolver: Arc<SwappableCert>,
    validity: Mutex<Option<Validity>>,
}

impl Acme {
    /// Checks the configuration, opens the cache, and reads a certificate from it that is valid
    /// now (any other is ignored: it will be replaced).
    pub(crate) fn new(
        config: AcmeConfig,
    ) -> Result<(Self, Option<Arc<CertifiedKey>>), StartupError> {
        config.check()?;
        let dir = config.cache_dir.clone().unwrap_or_default();
        let cache = Cache::open(&dir)?;
        let (account_file, cert_file) = config.cache_names();
        let acme = Self {
            config,
            cache,
            account_file,
            cert_file,
            challenges: Arc::default(),
            resolver: Arc::new(SwappableCert::empty()),
            validity: Mutex::new(None),
        };
        let cached = acme.cached()?;
        Ok((acme, cached))
    }

    /// Ties this to the resolver of the server's rustls config.
    pub(crate) fn attach(&mut self, resolver: Arc<SwappableCert>) {
        self.resolver = resolver;
    }

    fn cached(&self) -> Result<Option<Arc<CertifiedKey>>, StartupError> {
        let pem = self
            .cache
            .read(&self.cert_file)
            .map_err(|source| StartupError::AcmeCache {
                path: self.cache.path(&self.cert_file),
                source,
            })?;
        let Some(pem) = pem else { return Ok(None) };
        match super::tls::certified_key(&pem, &pem, Some(&self.cache.path(&self.cert_file)), None) {
            Ok(key) => {
                self.set_validity(Validity::of(&key));
                Ok(Some(key))
            }
            Err(e) => {
                tracing::warn!(error = %e, "the cached ACME certificate is not usable; a new one will be ordered");
                Ok(None)
            }
        }
    }

    fn set_validity(&self, validity: Option<Validity>) {
        *self.validity.lock().unwrap_or_else(PoisonError::into_inner) = validity;
    }

    fn validity(&self) -> Option<Validity> {
        *self.validity.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Obtains a first certificate if none was cached, answering the CA's validation
    /// handshakes on `listener` meanwhile (and refusing every other handshake: there is no
    /// certificate to offer them). Retries with backoff until the startup timeout.
    pub(crate) async fn first_certificate(
        &self,
        listener: &TcpListener,
        acceptor: &TlsAcceptor,
        handshake_timeout: Duration,
        max_connections: usize,
    ) -> Result<(), StartupError> {
        if self.resolver.has_certificate() {
            tracing::info!(domains = ?self.config.domains, "serving the cached ACME certificate");
            return Ok(());
        }
        let waited = self.config.startup_timeout;
        let mut handshakes = JoinSet::new();
        let last_error = Mutex::new(String::from("no attempt finished"));
        let obtain = async {
            let mut backoff = Duration::from_secs(1);
            loop {
                match self.renew().await {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in = ?backoff, "could not obtain a first certificate from the ACME CA");
                        *last_error.lock().unwrap_or_else(PoisonError::into_inner) = e;
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        };
        let mut obtain = std::pin::pin!(tokio::time::timeout(waited, obtain));
        loop {
            while handshakes.try_join_next().is_some() {}
            tokio::select! {
                done = &mut obtain => {
                    return match done {
                        Ok(()) => Ok(()),
                        Err(_) => Err(StartupError::AcmeTimeout {
                            directory: self.config.directory.clone(),
                            waited,
                            last_error: last_error.lock().unwrap_or_else(PoisonError::into_inner).clone(),
                        }),
                    };
                }
                Some(_) = handshakes.join_next(), if handshakes.len() >= max_connections => {}
                accepted = listener.accept(), if handshakes.len() < max_connections => {
                    let Ok((tcp, _)) = accepted else { continue };
                    let acceptor = acceptor.clone();
                    // A validation gets the challenge certificate; the handshake ends there.
                    handshakes.spawn(async move {
                        let _ = tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await;
                    });
                }
            }
        }
    }

    /// Renews at two thirds of each certificate's lifetime until the server stops, retrying
    /// with backoff; the server's accept loop answers the validations meanwhile.
    pub(crate) async fn renew_forever(self: Arc<Self>) {
        loop {
            let due = self.validity().map_or(0, Validity::renew_at);
            let wait = u64::try_from(due - now()).unwrap_or(0);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            let mut backoff = RENEW_RETRY_FIRST;
            loop {
                match self.renew().await {
                    Ok(()) => break,
                    Err(e) => {
                        let remaining = self.validity().map_or(Duration::ZERO, Validity::remaining);
                        if remaining < EXPIRY_WARNING {
                            tracing::error!(error = %e, ?remaining, retry_in = ?backoff, "ACME renewal failed and the certificate expires within 7 days");
                        } else {
                            tracing::warn!(error = %e, ?remaining, retry_in = ?backoff, "ACME renewal failed");
                        }
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(RENEW_RETRY_MAX);
            }
        }
    }

    /// Under the cache's lock: takes a certificate another process has just renewed, or orders
    /// one; then serves it.
    async fn renew(&self) -> Result<(), String> {
        let lock_error = |e: std::io::Error| format!("cannot lock the ACME cache: {e}");
        let _locked = self.cache.lock().await.map_err(lock_error)?;
        if let Ok(Some(key)) = self.cached() {
            if self.validity().is_some_and(|v| v.renew_at() > now()) {
                self.resolver.set(key);
                tracing::info!(domains = ?self.config.domains, "took the ACME certificate another process renewed");
                return Ok(());
            }
        }
        let pem = self.order().await?;
        let key = super::tls::certified_key(pem.as_bytes(), pem.as_bytes(), None, None)
            .map_err(|e| format!("the CA issued an unusable certificate: {e}"))?;
        self.cache
            .write(&self.cert_file, pem.as_bytes())
            .map_err(|e| format!("cannot write the certificate to the ACME cache: {e}"))?;
        let validity = Validity::of(&key);
        self.set_validity(validity);
        self.resolver.set(key);
        tracing::info!(domains = ?self.config.domains, remaining = ?validity.map(Validity::remaining), "obtained a certificate from the ACME CA");
        Ok(())
    }

    async fn account(&self) -> Result<Account, String> {
        let builder = || match &self.config.ca_root {
            Some(root) => Account::builder_with_root(root),
            None => Account::builder(),
        };
        let acme_error =
            |e: instant_acme::Error| format!("the ACME CA refused or is unreachable: {e}");
        let saved = self
            .cache
            .read(&self.account_file)
            .map_err(|e| format!("cannot read the ACME account from the cache: {e}"))?;
        if let Some(saved) = saved {
            let credentials: AccountCredentials = serde_json::from_slice(&saved).map_err(|_| {
                "the cached ACME account is not readable; delete it to make a new one".to_owned()
            })?;
            return builder()
                .map_err(acme_error)?
                .from_credentials(credentials)
                .await
                .map_err(acme_error);
        }
        let contacts: Vec<&str> = self.config.contacts.iter().map(String::as_str).collect();
        let (account, credentials) = builder()
            .map_err(acme_error)?
            .create(
                &NewAccount {
                    contact: &contacts,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                self.config.directory.clone(),
                None,
            )
            .await
            .map_err(acme_error)?;
        let json = serde_json::to_vec(&credentials)
            .map_err(|_| "cannot serialize the ACME account".to_owned())?;
        self.cache
            .write(&self.account_file, &json)
            .map_err(|e| format!("cannot write the ACME account to the cache: {e}"))?;
        Ok(account)
    }

    /// One order: TLS-ALPN-01 for every domain, then the key (made here) and the chain, as one
    /// PEM text.
    async fn order(&self) -> Result<String, String> {
        let account = self.account().await?;
        let acme_error = |e: instant_acme::Error| format!("ACME order failed: {e}");
        let identifiers: Vec<Identifier> = self
            .config
            .domains
            .iter()
            .cloned()
            .map(Identifier::Dns)
            .collect();
        let mut order = account
            .new_order(&NewOrder::new(&identifiers))
            .await
            .map_err(acme_error)?;
        // The challenge certificates go when this order ends, however it ends.
        let _cleanup = RemoveChallenges(&self.challenges, &self.config.domains);
        let mut authorizations = order.authorizations();
        while let Some(authorization) = authorizations.next().await {
            let mut authorization = authorization.map_err(acme_error)?;
            match authorization.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => return Err(format!("ACME authorization is {other:?}")),
            }
            let mut challenge = authorization
                .challenge(ChallengeType::TlsAlpn01)
                .ok_or("the ACME CA offers no tls-alpn-01 challenge")?;
            let domain = challenge.identifier().to_string();
            self.challenges
                .insert(&domain, challenge.key_authorization().digest().as_ref())?;
            challenge.set_ready().await.map_err(acme_error)?;
        }
        let polling = RetryPolicy::new().timeout(Duration::from_secs(60));
        match order.poll_ready(&polling).await.map_err(acme_error)? {
            OrderStatus::Ready => {}
            other => return Err(format!("ACME order is {other:?} after validation")),
        }
        let key_pem = order.finalize().await.map_err(acme_error)?;
        let chain_pem = order.poll_certificate(&polling).await.map_err(acme_error)?;
        Ok(format!("{key_pem}{chain_pem}"))
    }
}

impl fmt::Debug for Acme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acme")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

struct RemoveChallenges<'a>(&'a Challenges, &'a [String]);

impl Drop for RemoveChallenges<'_> {
    fn drop(&mut self) {
        for domain in self.1 {
            self.0.remove(domain);
        }
    }
}

//! TLS-ALPN-01 (RFC 8737): the challenge certificates, answered on the server's own TLS port.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rcgen::{CertificateParams, CustomExtension, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::ClientHello;
use rustls::sign::CertifiedKey;

use crate::server::tls::ACME_TLS_ALPN;
/// The challenge certificates of the orders in progress, by domain.
#[derive(Default)]
pub(crate) struct Challenges {
    by_domain: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl Challenges {
    /// The certificate for a validation handshake: one that offers `acme-tls/1` and nothing
    /// else (RFC 8737, section 3), for a domain with a challenge in progress. Any other
    /// handshake is not a validation (`None`).
    pub(crate) fn for_validation(
        &self,
        hello: &ClientHello<'_>,
    ) -> Option<Option<Arc<CertifiedKey>>> {
        let mut offered = hello.alpn()?;
        let only_acme = offered.next() == Some(ACME_TLS_ALPN) && offered.next().is_none();
        if !only_acme {
            return None;
        }
        let key = hello.server_name().and_then(|name| {
            self.by_domain
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&name.to_ascii_lowercase())
                .cloned()
        });
        Some(key)
    }

    /// Answers validations of `domain` with a certificate that carries `digest`, the SHA-256
    /// of the key authorization, until [`remove`](Self::remove).
    pub(super) fn insert(&self, domain: &str, digest: &[u8]) -> Result<(), String> {
        let key = challenge_certificate(domain, digest)
            .map_err(|e| format!("cannot make the TLS-ALPN-01 certificate: {e}"))?;
        self.by_domain
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(domain.to_ascii_lowercase(), key);
        Ok(())
    }

    pub(super) fn remove(&self, domain: &str) {
        self.by_domain
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&domain.to_ascii_lowercase());
    }
}

/// A self-signed certificate for `domain` with the critical `acmeIdentifier` extension.
fn challenge_certificate(domain: &str, digest: &[u8]) -> Result<Arc<CertifiedKey>, rcgen::Error> {
    let mut params = CertificateParams::new(vec![domain.to_owned()])?;
    params.custom_extensions = vec![CustomExtension::new_acme_identifier(digest)];
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signing = rustls::crypto::ring::sign::any_supported_type(&der)
        .map_err(|_| rcgen::Error::KeyGenerationUnavailable)?;
    Ok(Arc::new(CertifiedKey::new(
        vec![CertificateDer::from(cert.der().to_vec())],
        signing,
    )))
}

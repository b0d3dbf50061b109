//! `Authorization: token <API key>`: the key, and how a request was authenticated.

use std::fmt;

use http::header::AUTHORIZATION;
use http::HeaderMap;
use subtle::ConstantTimeEq;

/// The account's NUGU API key (NUGU developers > 내 정보 > API key), which real speakers send as
/// `Authorization: token <API key>`.
///
/// Its `Debug` shows nothing of the key, and requests are checked against it in constant time.
///
/// ```
/// use nugu_proxy::layer::ApiKey;
///
/// let key = ApiKey::new("3f9c1b2e7d").unwrap();
/// assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
/// assert!(ApiKey::new("").is_err());
/// assert!(ApiKey::new("has space").is_err());
/// ```
#[derive(Clone)]
pub struct ApiKey(Box<[u8]>);

impl ApiKey {
    /// Wraps an API key: it must be non-empty visible ASCII (no spaces or control characters),
    /// as it travels in a header.
    pub fn new(key: impl Into<String>) -> Result<Self, InvalidApiKey> {
        let key = key.into();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidApiKey);
        }
        Ok(Self(key.into_bytes().into_boxed_slice()))
    }

    fn matches(&self, presented: &[u8]) -> bool {
        // Constant time in the content; only the length (not secret in practice) can leak.
        self.0.ct_eq(presented).into()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// An API key that is empty or holds characters a header cannot carry.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct InvalidApiKey;

impl fmt::Display for InvalidApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the NUGU API key must be non-empty visible ASCII without spaces")
    }
}

impl std::error::Error for InvalidApiKey {}

crate::report::debug_as_report!(InvalidApiKey);

/// How [`PrivatePlayLayer`](crate::PrivatePlayLayer) authenticated a request; inserted into the
/// request's extensions next to the [`ActionRequest`](crate::ActionRequest).
///
/// ```
/// use nugu_proxy::layer::Authentication;
///
/// assert!(Authentication::ApiKey.is_authenticated());
/// assert!(!Authentication::PlayBuilderTestCall.is_authenticated());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Authentication {
    /// The request carried the configured API key: it comes from NUGU.
    ApiKey,
    /// A Play Builder test call, let through without credentials because the layer was told to
    /// (`allow_play_builder_test_calls`). Nothing in it is trusted: its `profile` was dropped.
    PlayBuilderTestCall,
    /// Authentication is switched off (`dangerous_without_authentication`).
    Disabled,
}

impl Authentication {
    /// Whether the request proved it comes from NUGU.
    pub fn is_authenticated(&self) -> bool {
        matches!(self, Authentication::ApiKey)
    }
}

/// What the headers say, before the body is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Credentials {
    Valid,
    Invalid,
    Missing,
}

pub(crate) fn check(headers: &HeaderMap, key: &ApiKey) -> Credentials {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        // None at all is missing; more than one is an attempt to confuse: refuse it.
        return if headers.contains_key(AUTHORIZATION) {
            Credentials::Invalid
        } else {
            Credentials::Missing
        };
    };
    let value = value.as_bytes();
    let presented = match value.iter().position(|&b| b == b' ') {
        Some(space) if value[..space].eq_ignore_ascii_case(b"token") => {
            value[space + 1..].trim_ascii()
        }
        _ => return Credentials::Invalid,
    };
    if key.matches(presented) {
        Credentials::Valid
    } else {
        Credentials::Invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(AUTHORIZATION, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn checks_scheme_and_key() {
        let key = ApiKey::new("k3y").unwrap();
        assert_eq!(check(&headers(&["token k3y"]), &key), Credentials::Valid);
        assert_eq!(check(&headers(&["Token  k3y "]), &key), Credentials::Valid);
        assert_eq!(check(&headers(&["token k3"]), &key), Credentials::Invalid);
        assert_eq!(check(&headers(&["Bearer k3y"]), &key), Credentials::Invalid);
        assert_eq!(check(&headers(&["k3y"]), &key), Credentials::Invalid);
        assert_eq!(
            check(&headers(&["token k3y", "token k3y"]), &key),
            Credentials::Invalid
        );
        assert_eq!(check(&headers(&[]), &key), Credentials::Missing);
    }
}

//! [`LinkConfirmations`]: one `confirmUrl` per account link, each accepted once.
//!
//! NUGU posts a link's outcome to the `confirmUrl` the publisher gave, and anyone who learns
//! that URL can post there too. So each link gets its own URL, ending in a random nonce, that
//! remembers the token and the email it was issued for: a post is accepted only there, only
//! with that token, and only once (a replay finds nothing).

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;
use reqwest::Url;
use subtle::ConstantTimeEq;

use super::callback::{post_only, read_json, status};
use super::error::BizError;
use super::link::{LinkConfirmation, LinkError, SignedInLink};
use super::model::{Sensitive, UserApiToken};

/// How many links may wait for their confirmation at once; more is [`LinkError::TooManyPending`].
pub const MAX_PENDING_LINKS: usize = 100_000;

/// The confirmation URLs of account links: issues one per link
/// ([`issue`](Self::issue)) and receives NUGU's post there ([`service`](Self::service)).
/// Cheap to clone (clones share the pending links).
///
/// ```
/// use axum::Router;
/// use nugu_proxy::biz::{LinkConfirmations, LinkPolicy, LinkResultCode, UserApiToken};
///
/// let confirmations = LinkConfirmations::new("https://publisher.example/nugu/confirm/")?;
/// let app: Router = Router::new().route_service(
///     "/nugu/confirm/{nonce}",
///     confirmations.service(|confirmed| async move {
///         if confirmed.confirmation.result_code == LinkResultCode::Ok {
///             // the token of confirmed.email is usable from now on
///         }
///     }),
/// );
///
/// // In the authentication page, once the user is signed in:
/// let auth = LinkPolicy::new(["nugu.example"])
///     .parse_query("status=s-1&email=kim%40example.com&callBack=https%3A%2F%2Fnugu.example%2Fcb")?;
/// let link = auth.for_signed_in_user("kim@example.com")?;
/// let confirm_url = confirmations.issue(&link, &UserApiToken::new("t-1"))?;
/// assert!(confirm_url.as_str().starts_with("https://publisher.example/nugu/confirm/"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct LinkConfirmations {
    inner: Arc<Inner>,
}

struct Inner {
    base: Url,
    ttl: Duration,
    pending: Mutex<HashMap<String, Pending>>,
}

struct Pending {
    token: UserApiToken,
    email: Sensitive,
    issued: Instant,
}

impl fmt::Debug for LinkConfirmations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkConfirmations")
            .field("base", &self.inner.base.as_str())
            .field("ttl", &self.inner.ttl)
            .finish_non_exhaustive()
    }
}

/// Configures [`LinkConfirmations`].
#[derive(Debug)]
#[must_use]
pub struct LinkConfirmationsBuilder {
    base: String,
    ttl: Duration,
    allow_http: bool,
}

impl LinkConfirmationsBuilder {
    /// How long an issued URL waits for NUGU's post (default 24 hours): the user may take a
    /// while to finish the invitation on NUGU's pages after the token was handed over.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// **Dangerous**: allows a plain `http` base URL. NUGU's post carries the user's token:
    /// only for a local emulator on 127.0.0.1 in tests.
    pub fn dangerous_allow_http(mut self) -> Self {
        self.allow_http = true;
        self
    }

    /// Checks the base URL: absolute, `https`, without credentials, query or fragment.
    pub fn build(self) -> Result<LinkConfirmations, BizError> {
        let refuse = |why: &str| BizError::Config(format!("the confirmation base URL {why}"));
        let mut base = Url::parse(self.base.trim()).map_err(|_| refuse("does not parse"))?;
        match base.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return Err(refuse("is not https")),
        }
        if base.cannot_be_a_base() || base.host_str().is_none() {
            return Err(refuse("has no host"));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(refuse("carries credentials"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(refuse("carries a query or fragment"));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(LinkConfirmations {
            inner: Arc::new(Inner {
                base,
                ttl: self.ttl,
                pending: Mutex::new(HashMap::new()),
            }),
        })
    }
}

impl LinkConfirmations {
    /// Confirmation URLs below `base` (`https`), e.g. `https://example.com/nugu/confirm/`,
    /// with the default settings.
    pub fn new(base: &str) -> Result<Self, BizError> {
        Self::builder(base).build()
    }

    /// Starts configuring confirmation URLs below `base`.
    pub fn builder(base: &str) -> LinkConfirmationsBuilder {
        LinkConfirmationsBuilder {
            base: base.to_owned(),
            ttl: Duration::from_secs(24 * 60 * 60),
            allow_http: false,
        }
    }

    /// A new `confirmUrl` for this link and the token sent with it: the base URL followed by
    /// a random nonce, accepted once within the time to live.
    pub fn issue(
        &self,
        link: &SignedInLink,
        token: &UserApiToken,
    ) -> Result<ConfirmUrl, LinkError> {
        if token.expose().trim().is_empty() {
            return Err(LinkError::EmptyToken);
        }
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|_| LinkError::NoRandomness)?;
        let nonce: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let url = self
            .inner
            .base
            .join(&nonce)
            .map_err(|_| LinkError::NoRandomness)?;
        let mut pending = self.lock();
        let ttl = self.inner.ttl;
        pending.retain(|_, p| p.issued.elapsed() <= ttl);
        if pending.len() >= MAX_PENDING_LINKS {
            return Err(LinkError::TooManyPending);
        }
        pending.insert(
            nonce,
            Pending {
                token: token.clone(),
                email: link.email().clone(),
                issued: Instant::now(),
            },
        );
        Ok(ConfirmUrl(url))
    }

    /// How many issued URLs wait for NUGU's post (expired ones included until the next
    /// [`issue`](Self::issue)).
    pub fn pending(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.inner
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A tower service that receives NUGU's post to an issued URL and calls `handler` with it.
    /// Route the base path followed by any last segment to it (axum:
    /// `/nugu/confirm/{nonce}`); the nonce is the path's last segment.
    ///
    /// It answers `200` once the handler has run; `404` to a nonce never issued, already used
    /// or expired (a replay); `400` to a body that is not a confirmation or names another
    /// token than the one issued (the URL stays usable for NUGU's own post); `405` to a method
    /// other than `POST`; `413` to a body over [`MAX_CALLBACK_BODY`](super::MAX_CALLBACK_BODY).
    pub fn service<F, Fut>(&self, handler: F) -> ConfirmationService<F>
    where
        F: Fn(ConfirmedLink) -> Fut,
        Fut: Future<Output = ()>,
    {
        ConfirmationService {
            confirmations: self.clone(),
            handler,
        }
    }
}

/// A `confirmUrl` made by [`LinkConfirmations::issue`]. `Debug` shows its host only: the
/// nonce is what lets a post in.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfirmUrl(Url);

impl ConfirmUrl {
    /// The URL, to send as `confirmUrl`.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for ConfirmUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConfirmUrl")
            .field(&self.0.host_str())
            .finish()
    }
}

/// A confirmation NUGU posted to a URL issued for a link: the email it was issued for, and
/// what NUGU said (`userApiToken` is the token issued with the URL).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConfirmedLink {
    /// The email of the linked user, as NUGU sent it in the authentication request.
    pub email: Sensitive,
    /// NUGU's post.
    pub confirmation: LinkConfirmation,
}

/// The service of [`LinkConfirmations::service`].
#[derive(Clone)]
pub struct ConfirmationService<F> {
    confirmations: LinkConfirmations,
    handler: F,
}

impl<F> fmt::Debug for ConfirmationService<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfirmationService")
            .field("confirmations", &self.confirmations)
            .finish_non_exhaustive()
    }
}

impl<F, Fut, B> tower_service::Service<Request<B>> for ConfirmationService<F>
where
    F: Fn(ConfirmedLink) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (confirmations, handler) = (self.confirmations.clone(), self.handler.clone());
        Box::pin(async move {
            if let Some(refused) = post_only(&request) {
                return Ok(refused);
            }
            let nonce = request
                .uri()
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            // Unknown nonces are refused before their body is read.
            if !confirmations.lock().contains_key(&nonce) {
                return Ok(status(StatusCode::NOT_FOUND));
            }
            let confirmation: LinkConfirmation = match read_json(request.into_body()).await {
                Ok(value) => value,
                Err(refused) => return Ok(refused),
            };
            let email = {
                let mut pending = confirmations.lock();
                let ttl = confirmations.inner.ttl;
                match pending.get(&nonce) {
                    None => return Ok(status(StatusCode::NOT_FOUND)),
                    Some(p) if p.issued.elapsed() > ttl => {
                        pending.remove(&nonce);
                        return Ok(status(StatusCode::NOT_FOUND));
                    }
                    Some(p) => {
                        let sent = confirmation.user_api_token.expose().as_bytes();
                        if !bool::from(p.token.expose().as_bytes().ct_eq(sent)) {
                            tracing::debug!("refused a link confirmation for another token");
                            return Ok(status(StatusCode::BAD_REQUEST));
                        }
                    }
                }
                // Removed under the same lock as the check: a concurrent replay finds nothing.
                match pending.remove(&nonce) {
                    Some(p) => p.email,
                    None => return Ok(status(StatusCode::NOT_FOUND)),
                }
            };
            handler(ConfirmedLink {
                email,
                confirmation,
            })
            .await;
            Ok(status(StatusCode::OK))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::biz::LinkPolicy;
    use tower_service::Service;

    fn link() -> SignedInLink {
        LinkPolicy::new(["nugu.example"])
            .parse_query(
                "status=s&email=kim%40example.com&callBack=https%3A%2F%2Fnugu.example%2Fcb",
            )
            .unwrap()
            .for_signed_in_user("kim@example.com")
            .unwrap()
    }

    fn post(url: &ConfirmUrl, token: &str) -> Request<Full<Bytes>> {
        let body = format!(r#"{{"userApiToken":"{token}","resultCode":"OK"}}"#);
        Request::post(url.as_str())
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    }

    #[tokio::test]
    async fn an_expired_url_is_refused_and_forgotten() {
        let confirmations = LinkConfirmations::builder("https://publisher.example/c")
            .ttl(Duration::ZERO)
            .build()
            .unwrap();
        let url = confirmations
            .issue(&link(), &UserApiToken::new("t"))
            .unwrap();
        assert!(url.as_str().starts_with("https://publisher.example/c/"));
        assert_eq!(
            format!("{url:?}"),
            r#"ConfirmUrl(Some("publisher.example"))"#
        );
        std::thread::sleep(Duration::from_millis(5));
        let mut service = confirmations.service(|_| async { panic!("expired") });
        let answer = service.call(post(&url, "t")).await.unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
        assert_eq!(confirmations.pending(), 0);
    }

    #[test]
    fn the_base_url_must_be_https_without_query_or_credentials() {
        for base in [
            "http://publisher.example/c/",
            "https://u:p@publisher.example/c/",
            "https://publisher.example/c/?a=1",
            "https://publisher.example/c/#f",
            "/relative/",
            "mailto:x@example.com",
        ] {
            assert!(LinkConfirmations::new(base).is_err(), "{base}");
        }
        assert!(LinkConfirmations::builder("http://127.0.0.1:9/c/")
            .dangerous_allow_http()
            .build()
            .is_ok());
        let empty = LinkConfirmations::new("https://publisher.example/")
            .unwrap()
            .issue(&link(), &UserApiToken::new(" "));
        assert_eq!(empty.unwrap_err(), LinkError::EmptyToken);
    }
}

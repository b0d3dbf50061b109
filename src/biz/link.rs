//! Account linking, the publisher's side of "Biz 사용자 API Token 생성" (full edition).
//!
//! 1. An invited user logs in with a NUGU ID; NUGU sends their browser to the publisher's
//!    registered authentication URL with `status`, `callBack` and `email` in the query.
//!    [`LinkPolicy::parse_query`] reads them into an [`AuthRequest`], refusing a `callBack`
//!    that is not `https` on a host the publisher allowed: the page would otherwise post a
//!    freshly made token wherever a forged link points.
//! 2. The publisher identifies the user with its own login, makes a [`UserApiToken`], and
//!    [`BizClient::complete_link`](super::BizClient::complete_link) posts `status`,
//!    `userApiToken` and an optional `confirmUrl` to `callBack`.
//! 3. NUGU then posts `{userApiToken, resultCode}` to `confirmUrl`;
//!    [`CallbackService`](super::CallbackService) receives it as a [`LinkConfirmation`].
//!
//! What the page requires of the publisher:
//! - **One token per email.** NUGU identifies a Biz user by email and refuses a token that
//!   another Biz user already has ([`LinkResultCode::Conflict`]).
//! - **A token whose invitation was abandoned is not usable.** NUGU keeps no state for an
//!   invitation the user left before finishing: a token posted to `callBack` is valid only
//!   once [`LinkResultCode::Ok`] confirms it (ask for a `confirmUrl`), so do not send
//!   announcements with it before.
//! - `status` and `email` go back exactly as received.
//!
//! ```
//! use nugu_proxy::biz::LinkPolicy;
//! let policy = LinkPolicy::new(["developers.nugu.co.kr"]);
//! let auth = policy
//!     .parse_query("status=s-1&email=kim%40example.com&callBack=https%3A%2F%2Fdevelopers.nugu.co.kr%2Fbiz%2Ftoken")
//!     .unwrap();
//! assert_eq!(auth.email().expose(), "kim@example.com");
//! assert!(policy.parse_query("status=s-1&email=k&callBack=https%3A%2F%2Fevil.example%2Fsteal").is_err());
//! ```

use std::fmt;
use std::sync::Arc;

use reqwest::Url;
use serde::{Deserialize, Serialize};

use super::model::enums::open_enum;
use super::model::{Sensitive, UserApiToken};

/// Which `callBack` addresses an authentication request may carry: `https` on the hosts the
/// publisher allows (NUGU's, as given in the Biz Kit settings). Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct LinkPolicy {
    hosts: Arc<[String]>,
    http_hosts: Arc<[String]>,
}

impl LinkPolicy {
    /// Allows `callBack` over `https` on exactly these hosts (compared without case).
    pub fn new<I, S>(hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            hosts: hosts.into_iter().map(Into::into).collect(),
            http_hosts: Arc::from([]),
        }
    }

    /// **Dangerous**: also allows these hosts over plain `http` (and them as `confirmUrl`
    /// hosts over `http`). The token then crosses the network in clear: only for a local
    /// emulator on 127.0.0.1 in tests.
    pub fn dangerous_allow_http_callback_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.http_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Reads the query of a request to the authentication URL (without the leading `?`).
    pub fn parse_query(&self, query: &str) -> Result<AuthRequest, LinkError> {
        let mut status = None;
        let mut email = None;
        let mut callback = None;
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "status" => &mut status,
                "email" => &mut email,
                "callBack" => &mut callback,
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(LinkError::Repeated(field_name(&name)));
            }
        }
        let present = |value: Option<String>, field| match value {
            Some(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(LinkError::Missing(field)),
        };
        let status = present(status, "status")?;
        let email = present(email, "email")?;
        let callback = present(callback, "callBack")?;
        let callback = self.check_callback(&callback)?;
        Ok(AuthRequest {
            status: Sensitive::new(status),
            email: Sensitive::new(email),
            callback,
            http_hosts: self.http_hosts.clone(),
        })
    }

    /// Reads the query of a request's URI; see [`parse_query`](Self::parse_query).
    pub fn parse_uri(&self, uri: &http::Uri) -> Result<AuthRequest, LinkError> {
        self.parse_query(uri.query().unwrap_or_default())
    }

    fn check_callback(&self, text: &str) -> Result<Url, LinkError> {
        let url = Url::parse(text).map_err(|_| LinkError::CallbackUnreadable)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(LinkError::CallbackUnreadable);
        }
        let host = url.host_str().ok_or(LinkError::CallbackUnreadable)?;
        let listed = |hosts: &[String]| hosts.iter().any(|h| h.eq_ignore_ascii_case(host));
        let allowed = match url.scheme() {
            "https" => listed(&self.hosts) || listed(&self.http_hosts),
            "http" if listed(&self.http_hosts) => true,
            "http" => return Err(LinkError::CallbackNotHttps),
            _ => return Err(LinkError::CallbackUnreadable),
        };
        if !allowed {
            return Err(LinkError::CallbackHostNotAllowed {
                host: host.to_owned(),
            });
        }
        Ok(url)
    }
}

fn field_name(name: &str) -> &'static str {
    match name {
        "status" => "status",
        "email" => "email",
        _ => "callBack",
    }
}

/// Why an authentication request was refused. Each answers `400`; none shows a value but the
/// refused host.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkError {
    /// A required parameter (`status`, `email`, `callBack`) is missing or empty.
    Missing(&'static str),
    /// A parameter appears twice: which one NUGU meant is unknown.
    Repeated(&'static str),
    /// `callBack` is not an absolute URL without credentials.
    CallbackUnreadable,
    /// `callBack` is plain `http`.
    CallbackNotHttps,
    /// `callBack` points to a host the policy does not allow.
    CallbackHostNotAllowed {
        /// The refused host.
        host: String,
    },
}

impl LinkError {
    /// The HTTP status to answer: always `400`.
    pub fn status(&self) -> http::StatusCode {
        http::StatusCode::BAD_REQUEST
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(field) => write!(f, "authentication request without `{field}`"),
            Self::Repeated(field) => write!(f, "authentication request repeats `{field}`"),
            Self::CallbackUnreadable => f.write_str("`callBack` is not a usable absolute URL"),
            Self::CallbackNotHttps => f.write_str("`callBack` is not https"),
            Self::CallbackHostNotAllowed { host } => {
                write!(f, "`callBack` host {host} is not allowed")
            }
        }
    }
}

impl std::error::Error for LinkError {}

/// A validated request to the publisher's authentication URL. Made only by [`LinkPolicy`],
/// so its `callBack` is one the publisher allowed.
#[derive(Clone)]
pub struct AuthRequest {
    status: Sensitive,
    email: Sensitive,
    callback: Url,
    http_hosts: Arc<[String]>,
}

impl AuthRequest {
    /// NUGU's key of this linking, to send back unchanged.
    pub fn status(&self) -> &Sensitive {
        &self.status
    }

    /// The invited user's email, as NUGU knows it (send back unchanged).
    pub fn email(&self) -> &Sensitive {
        &self.email
    }

    /// Where the token goes.
    pub fn callback(&self) -> &Url {
        &self.callback
    }

    pub(crate) fn http_hosts(&self) -> &[String] {
        &self.http_hosts
    }
}

impl fmt::Debug for AuthRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRequest")
            .field("status", &self.status)
            .field("email", &self.email)
            .field("callback_host", &self.callback.host_str())
            .finish()
    }
}

/// What NUGU posts to `confirmUrl`: `{userApiToken, resultCode}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkConfirmation {
    /// The token the publisher sent.
    pub user_api_token: UserApiToken,
    /// Whether NUGU took it.
    pub result_code: LinkResultCode,
}

open_enum! {
    /// The outcome of a link (`resultCode` of the confirmation).
    LinkResultCode {
        /// `OK`: the user is created; the token addresses them from now on.
        Ok = "OK",
        /// `CONFLICT`: another Biz user already has this token; the link did not happen.
        Conflict = "CONFLICT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(callback: &str) -> String {
        let mut url = Url::parse("http://x/").unwrap();
        url.query_pairs_mut()
            .append_pair("status", "st")
            .append_pair("email", "kim@example.com")
            .append_pair("callBack", callback);
        url.query().unwrap().to_owned()
    }

    #[test]
    fn only_https_callbacks_on_allowed_hosts_pass() {
        let policy = LinkPolicy::new(["nugu.example"]);
        let ok = policy
            .parse_query(&query("https://NUGU.example/cb?x=1"))
            .unwrap();
        assert_eq!(ok.status().expose(), "st");
        assert_eq!(ok.callback().as_str(), "https://nugu.example/cb?x=1");
        for (callback, expected) in [
            ("http://nugu.example/cb", LinkError::CallbackNotHttps),
            (
                "https://nugu.example.evil.test/cb",
                LinkError::CallbackHostNotAllowed {
                    host: "nugu.example.evil.test".into(),
                },
            ),
            (
                "https://user:pw@nugu.example/cb",
                LinkError::CallbackUnreadable,
            ),
            ("/relative", LinkError::CallbackUnreadable),
            ("ftp://nugu.example/", LinkError::CallbackUnreadable),
            ("", LinkError::Missing("callBack")),
        ] {
            assert_eq!(policy.parse_query(&query(callback)).unwrap_err(), expected);
        }
        assert_eq!(
            policy
                .parse_query("status=a&status=b&email=e&callBack=https%3A%2F%2Fnugu.example%2F")
                .unwrap_err(),
            LinkError::Repeated("status")
        );
        assert_eq!(
            policy.parse_query("email=e").unwrap_err(),
            LinkError::Missing("status")
        );
        let local =
            LinkPolicy::new(["nugu.example"]).dangerous_allow_http_callback_hosts(["127.0.0.1"]);
        assert!(local
            .parse_query(&query("http://127.0.0.1:4000/cb"))
            .is_ok());
        assert!(local
            .parse_query(&query("http://localhost:4000/cb"))
            .is_err());
    }

    #[test]
    fn debug_shows_neither_status_nor_email() {
        let auth = LinkPolicy::new(["nugu.example"])
            .parse_query(&query("https://nugu.example/cb"))
            .unwrap();
        let shown = format!("{auth:?}");
        assert!(
            !shown.contains("kim@example.com") && !shown.contains("\"st\""),
            "{shown}"
        );
        assert!(shown.contains("nugu.example"));
    }
}

//! Account linking, the publisher's side of "Biz 사용자 API Token 생성" (full edition).
//!
//! 1. An invited user logs in with a NUGU ID; NUGU sends **their browser** to the publisher's
//!    registered authentication URL with `status`, `callBack` and `email` in the query.
//!    [`LinkPolicy::parse_query`] reads them into an [`AuthRequest`], refusing a `callBack`
//!    that is not on a host and port the publisher allowed, or whose query already names a
//!    parameter the link sends: the token would otherwise go wherever a forged link points.
//! 2. The publisher signs the user in with its own login and binds the request to them
//!    ([`AuthRequest::for_signed_in_user`]): a link forwarded to someone else is refused, so no
//!    one's token lands on another person's NUGU account. It makes a [`UserApiToken`] and a
//!    one-use confirmation URL ([`LinkConfirmations::issue`](super::LinkConfirmations::issue)).
//! 3. It hands `status`, `userApiToken` and `confirmUrl` to `callBack` by `POST`, with the
//!    values in the query as the page documents them, either through the user's browser
//!    ([`SignedInLink::browser_page`]: the user stays on the flow, which NUGU aborts if they
//!    leave the page) or server to server
//!    ([`BizClient::complete_link`](super::BizClient::complete_link)).
//! 4. NUGU then posts `{userApiToken, resultCode}` to that `confirmUrl`;
//!    [`LinkConfirmations::service`](super::LinkConfirmations::service) accepts it once.
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
//! Where the page is silent, the crate reads it so it loses nothing: `callBack` may be plain
//! `http` (port 80, with a logged warning; [`LinkPolicy::require_https`] refuses it) and may
//! carry a query of its own as long as it names none of `status`, `userApiToken`,
//! `confirmUrl`. Its port is 80 or 443, the ports the Biz API documents for its callbacks. The
//! page names no host for `callBack`: the publisher lists NUGU's, and a refused request names
//! the host it carried ([`LinkError::CallbackHostNotAllowed`]), so the first test invitation
//! shows it.
//!
//! ```
//! use nugu_proxy::biz::{LinkError, LinkPolicy};
//! let policy = LinkPolicy::new(["nugu.example"]);
//! let auth = policy
//!     .parse_query("status=s-1&email=kim%40example.com&callBack=https%3A%2F%2Fnugu.example%2Fbiz%2Ftoken")
//!     .unwrap();
//! assert_eq!(auth.email().expose(), "kim@example.com");
//! // The signed-in user must be the invited one.
//! assert!(auth.for_signed_in_user("Kim@Example.com").is_ok());
//! assert_eq!(
//!     auth.for_signed_in_user("lee@example.com").unwrap_err(),
//!     LinkError::NotTheSignedInUser
//! );
//! assert!(policy.parse_query("status=s-1&email=k&callBack=https%3A%2F%2Fevil.example%2Fsteal").is_err());
//! ```

use std::fmt;
use std::sync::Arc;

use reqwest::Url;
use serde::{Deserialize, Serialize};

use super::confirm::ConfirmUrl;
use super::model::enums::open_enum;
use super::model::{Sensitive, UserApiToken};

/// The parameters the publisher sends to `callBack`: a `callBack` whose own query names one of
/// them is refused, as a receiver reading the first value would read the attacker's.
const SENT: [&str; 3] = ["status", "userApiToken", "confirmUrl"];

/// Which `callBack` addresses an authentication request may carry: the hosts the publisher
/// allows (NUGU's), on port 443 (`https`) or 80. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct LinkPolicy {
    hosts: Arc<[String]>,
    http_hosts: Arc<[String]>,
    require_https: bool,
}

impl LinkPolicy {
    /// Allows `callBack` on exactly these hosts (compared without case), on ports 80 and 443.
    pub fn new<I, S>(hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            hosts: hosts.into_iter().map(Into::into).collect(),
            http_hosts: Arc::from([]),
            require_https: false,
        }
    }

    /// Refuses a plain `http` `callBack` ([`LinkError::CallbackNotHttps`]). The page does not
    /// say NUGU's `callBack` is `https`, so by default `http` on port 80 passes with a logged
    /// warning; once you have seen NUGU send `https`, turn this on.
    pub fn require_https(mut self) -> Self {
        self.require_https = true;
        self
    }

    /// **Dangerous**: also allows these hosts over plain `http` on any port. The token then
    /// crosses the network in clear: only for a local emulator on 127.0.0.1 in tests.
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
        if !matches!(url.scheme(), "https" | "http") {
            return Err(LinkError::CallbackUnreadable);
        }
        // A local emulator in tests: any port, plain http.
        if !listed(&self.http_hosts) {
            if !listed(&self.hosts) {
                return Err(LinkError::CallbackHostNotAllowed {
                    host: host.to_owned(),
                });
            }
            match url.port_or_known_default() {
                Some(80 | 443) => {}
                port => return Err(LinkError::CallbackPort(port.unwrap_or_default())),
            }
            if url.scheme() == "http" {
                if self.require_https {
                    return Err(LinkError::CallbackNotHttps);
                }
                tracing::warn!(
                    host,
                    "account linking: NUGU's callBack is plain http; the user's token will cross the network in clear"
                );
            }
        }
        if let Some(name) = clashing_parameter(&url) {
            return Err(LinkError::CallbackQueryClash(name));
        }
        Ok(url)
    }
}

/// The parameter of [`SENT`] that `url`'s query already names, if any. Names compare without
/// case and `;` separates as `&` does: some receivers read them so.
fn clashing_parameter(url: &Url) -> Option<&'static str> {
    let query = url.query()?;
    query.split(['&', ';']).find_map(|pair| {
        let (name, _) = form_urlencoded::parse(pair.as_bytes()).next()?;
        SENT.into_iter()
            .find(|sent| sent.eq_ignore_ascii_case(name.trim()))
    })
}

fn field_name(name: &str) -> &'static str {
    match name {
        "status" => "status",
        "email" => "email",
        _ => "callBack",
    }
}

/// Why an account link was refused. None shows a value but the refused host or port.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkError {
    /// A required parameter (`status`, `email`, `callBack`) is missing or empty (`400`).
    Missing(&'static str),
    /// A parameter appears twice: which one NUGU meant is unknown (`400`).
    Repeated(&'static str),
    /// `callBack` is not an absolute `http(s)` URL without credentials (`400`).
    CallbackUnreadable,
    /// `callBack` is plain `http` and the policy [requires https](LinkPolicy::require_https)
    /// (`400`).
    CallbackNotHttps,
    /// `callBack` points to a host the policy does not allow (`400`).
    CallbackHostNotAllowed {
        /// The refused host.
        host: String,
    },
    /// `callBack` is on a port other than 80 and 443 (`400`).
    CallbackPort(u16),
    /// `callBack`'s own query names a parameter the link sends (`status`, `userApiToken`,
    /// `confirmUrl`): a receiver reading the first value would read that one (`400`).
    CallbackQueryClash(&'static str),
    /// The request is for another email than the signed-in user's: a link forwarded to
    /// someone else (`403`).
    NotTheSignedInUser,
    /// The token to send is empty (`500`: the publisher's bug).
    EmptyToken,
    /// Too many links wait for their confirmation (`503`).
    TooManyPending,
    /// The system gave no random bytes for a confirmation nonce (`500`).
    NoRandomness,
}

impl LinkError {
    /// The HTTP status to answer the user's browser with.
    pub fn status(&self) -> http::StatusCode {
        match self {
            Self::NotTheSignedInUser => http::StatusCode::FORBIDDEN,
            Self::EmptyToken | Self::NoRandomness => http::StatusCode::INTERNAL_SERVER_ERROR,
            Self::TooManyPending => http::StatusCode::SERVICE_UNAVAILABLE,
            _ => http::StatusCode::BAD_REQUEST,
        }
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
            Self::CallbackPort(port) => {
                write!(f, "`callBack` port {port} is not 80 or 443")
            }
            Self::CallbackQueryClash(name) => {
                write!(f, "`callBack` already carries `{name}` in its query")
            }
            Self::NotTheSignedInUser => {
                f.write_str("the authentication request is for another user than the one signed in")
            }
            Self::EmptyToken => f.write_str("the user API token to send is empty"),
            Self::TooManyPending => f.write_str("too many account links wait for confirmation"),
            Self::NoRandomness => f.write_str("no random bytes for a confirmation nonce"),
        }
    }
}

impl std::error::Error for LinkError {}

crate::report::debug_as_report!(LinkError);

/// A validated request to the publisher's authentication URL. Made only by [`LinkPolicy`],
/// so its `callBack` is one the publisher allowed. Before a link can be completed it must be
/// bound to the signed-in user ([`for_signed_in_user`](Self::for_signed_in_user)).
#[derive(Clone)]
pub struct AuthRequest {
    status: Sensitive,
    email: Sensitive,
    callback: Url,
}

impl AuthRequest {
    /// NUGU's key of this linking, to send back unchanged.
    pub fn status(&self) -> &Sensitive {
        &self.status
    }

    /// The invited user's email, as NUGU knows it.
    pub fn email(&self) -> &Sensitive {
        &self.email
    }

    /// Where the token goes.
    pub fn callback(&self) -> &Url {
        &self.callback
    }

    /// Binds the request to the user signed in to the publisher's site, known by the email of
    /// their account there: refused ([`LinkError::NotTheSignedInUser`]) unless it is the
    /// invited email (compared trimmed, ASCII letters without case). Without it, an invitee
    /// could forward their link to a colleague and get the colleague's token on their own NUGU
    /// account.
    pub fn for_signed_in_user(&self, signed_in_email: &str) -> Result<SignedInLink, LinkError> {
        let (invited, signed_in) = (self.email.expose().trim(), signed_in_email.trim());
        // ASCII case only: Unicode lowercasing folds other letters onto ASCII ones (the Kelvin
        // sign onto `k`), which would let a look-alike account match.
        if signed_in.is_empty() || !invited.eq_ignore_ascii_case(signed_in) {
            return Err(LinkError::NotTheSignedInUser);
        }
        Ok(SignedInLink {
            request: self.clone(),
        })
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

/// An [`AuthRequest`] whose email is the signed-in user's: what a link is completed with,
/// through the user's browser ([`browser_page`](Self::browser_page)) or server to server
/// ([`BizClient::complete_link`](super::BizClient::complete_link)).
#[derive(Clone, Debug)]
pub struct SignedInLink {
    request: AuthRequest,
}

impl SignedInLink {
    /// The request, with NUGU's `status`, the email and `callBack`.
    pub fn request(&self) -> &AuthRequest {
        &self.request
    }

    /// The invited (and signed-in) user's email.
    pub fn email(&self) -> &Sensitive {
        &self.request.email
    }

    /// `callBack` with `status`, `userApiToken` and `confirmUrl` in its query, as the page
    /// documents them. Its own query was checked when the request was read; it is checked
    /// again here, where the values are appended.
    pub(crate) fn target(
        &self,
        token: &UserApiToken,
        confirm: Option<&ConfirmUrl>,
    ) -> Result<Url, LinkError> {
        if token.expose().trim().is_empty() {
            return Err(LinkError::EmptyToken);
        }
        let mut url = self.request.callback.clone();
        if let Some(name) = clashing_parameter(&url) {
            return Err(LinkError::CallbackQueryClash(name));
        }
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("status", self.request.status.expose())
                .append_pair("userApiToken", token.expose());
            if let Some(confirm) = confirm {
                query.append_pair("confirmUrl", confirm.as_str());
            }
        }
        Ok(url)
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
    fn callbacks_pass_on_allowed_hosts_and_ports_80_and_443_only() {
        let policy = LinkPolicy::new(["nugu.example"]);
        let ok = policy
            .parse_query(&query("https://NUGU.example/cb?x=1"))
            .unwrap();
        assert_eq!(ok.status().expose(), "st");
        assert_eq!(ok.callback().as_str(), "https://nugu.example/cb?x=1");
        for callback in [
            "https://nugu.example:443/cb",
            "https://nugu.example:80/cb",
            // The page does not require https: plain http on port 80 passes (with a warning).
            "http://nugu.example/cb",
        ] {
            assert!(policy.parse_query(&query(callback)).is_ok(), "{callback}");
        }
        for (callback, expected) in [
            (
                "https://nugu.example:8443/cb",
                LinkError::CallbackPort(8443),
            ),
            ("http://nugu.example:8080/cb", LinkError::CallbackPort(8080)),
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
                .clone()
                .require_https()
                .parse_query(&query("http://nugu.example/cb"))
                .unwrap_err(),
            LinkError::CallbackNotHttps
        );
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
    fn a_callback_whose_query_names_a_sent_parameter_is_refused() {
        let policy =
            LinkPolicy::new(["nugu.example"]).dangerous_allow_http_callback_hosts(["127.0.0.1"]);
        for (callback, name) in [
            (
                "https://nugu.example/cb?confirmUrl=https://evil/steal&status=x",
                "confirmUrl",
            ),
            ("https://nugu.example/cb?a=1&status=x", "status"),
            ("https://nugu.example/cb?userapitoken=x", "userApiToken"),
            ("https://nugu.example/cb?a=1;Status=x", "status"),
            ("https://nugu.example/cb?st%61tus=x", "status"),
            ("https://nugu.example/cb?confirmUrl", "confirmUrl"),
            ("http://127.0.0.1:9/cb?status=x", "status"),
        ] {
            assert_eq!(
                policy.parse_query(&query(callback)).unwrap_err(),
                LinkError::CallbackQueryClash(name),
                "{callback}"
            );
        }
        // A query of NUGU's own that names none of them stays, and the values follow it.
        let auth = policy
            .parse_query(&query("https://nugu.example/cb?service=biz&statusCode=1"))
            .unwrap();
        let link = auth.for_signed_in_user("kim@example.com").unwrap();
        let target = link.target(&UserApiToken::new("t-1"), None).unwrap();
        assert_eq!(
            target.query(),
            Some("service=biz&statusCode=1&status=st&userApiToken=t-1")
        );
        assert_eq!(
            link.target(&UserApiToken::new(" "), None).unwrap_err(),
            LinkError::EmptyToken
        );
    }

    #[test]
    fn a_link_binds_to_the_invited_user_only() {
        let auth = LinkPolicy::new(["nugu.example"])
            .parse_query(&query("https://nugu.example/cb"))
            .unwrap();
        assert!(auth.for_signed_in_user(" KIM@example.com ").is_ok());
        for other in [
            "lee@example.com",
            "",
            " ",
            "kim@example.co",
            "\u{212A}im@example.com",
        ] {
            let err = auth.for_signed_in_user(other).unwrap_err();
            assert_eq!(err, LinkError::NotTheSignedInUser);
            assert_eq!(err.status(), http::StatusCode::FORBIDDEN);
            assert!(!err.to_string().contains("kim@"));
        }
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

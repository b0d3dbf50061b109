//! Why [`PrivatePlayLayer`](crate::PrivatePlayLayer) refused a request.
//!
//! One type per failure, each with a fixed HTTP status and a small JSON body
//! `{"error": "<code>", "message": "<why>"}`; [`PrivatePlayRejection`] is any of them. Messages
//! never repeat personal data or credentials from the request.
//!
//! ```
//! use nugu_proxy::rejection::{PayloadTooLarge, PrivatePlayRejection};
//!
//! let rejection = PrivatePlayRejection::from(PayloadTooLarge::new(65_536));
//! assert_eq!(rejection.status(), 413);
//! assert_eq!(rejection.code(), "payload_too_large");
//! let response = rejection.into_response();
//! assert_eq!(response.headers()["content-type"], "application/json");
//! ```

use std::fmt;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::Full;

use crate::request::ParseError;
use crate::response::json_response;

macro_rules! rejection {
    ($(#[$doc:meta])* $name:ident, $status:ident, $code:literal) => {
        $(#[$doc])*
        impl $name {
            /// The HTTP status this rejection answers with.
            pub const STATUS: StatusCode = StatusCode::$status;
            /// The machine-readable code in the JSON body's `error` field.
            pub const CODE: &'static str = $code;

            /// The HTTP response: [`Self::STATUS`] and a JSON body.
            pub fn into_response(self) -> http::Response<Full<Bytes>> {
                error_response(Self::STATUS, Self::CODE, &self.to_string())
            }
        }

        impl std::error::Error for $name {}

        crate::report::debug_as_report!($name);

        impl Status for $name {
            const STATUS: StatusCode = $name::STATUS;
            const CODE: &'static str = $name::CODE;
        }

        impl From<$name> for PrivatePlayRejection {
            fn from(rejection: $name) -> Self {
                PrivatePlayRejection::$name(rejection)
            }
        }

        #[cfg(feature = "axum")]
        impl axum_core::response::IntoResponse for $name {
            fn into_response(self) -> axum_core::response::Response {
                $name::into_response(self).map(axum_core::body::Body::new)
            }
        }
    };
}

/// 413: the body is larger than the configured limit (by `Content-Length`, or while reading).
#[derive(Clone, PartialEq, Eq)]
pub struct PayloadTooLarge {
    limit: usize,
}

impl PayloadTooLarge {
    /// A body over `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self { limit }
    }

    /// The configured limit, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl fmt::Display for PayloadTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request body is larger than {} bytes", self.limit)
    }
}
rejection!(PayloadTooLarge, PAYLOAD_TOO_LARGE, "payload_too_large");

/// 415: the `Content-Type` is missing or is not JSON.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct UnsupportedMediaType;

impl fmt::Display for UnsupportedMediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected Content-Type: application/json")
    }
}
rejection!(
    UnsupportedMediaType,
    UNSUPPORTED_MEDIA_TYPE,
    "unsupported_media_type"
);

/// 400: the body is not a NUGU action request; the message says where (JSON path, line, column).
#[derive(Clone)]
pub struct MalformedRequest(ParseError);

impl MalformedRequest {
    /// The parse error, with its path and position.
    pub fn parse_error(&self) -> &ParseError {
        &self.0
    }
}

impl From<ParseError> for MalformedRequest {
    fn from(error: ParseError) -> Self {
        Self(error)
    }
}

impl fmt::Display for MalformedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed NUGU request: {}", self.0)
    }
}
rejection!(MalformedRequest, BAD_REQUEST, "malformed_request");

/// 400: the request body could not be read (the client broke off or sent a broken stream).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct BodyReadFailed;

impl fmt::Display for BodyReadFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request body could not be read")
    }
}
rejection!(BodyReadFailed, BAD_REQUEST, "body_read_failed");

/// 401: no `Authorization` header, and the request is not an allowed Play Builder test call.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct MissingCredentials;

impl fmt::Display for MissingCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("missing Authorization: token <API key>")
    }
}
rejection!(MissingCredentials, UNAUTHORIZED, "missing_credentials");

/// 401: the `Authorization` header is not `token <the configured API key>` (wrong key, other
/// scheme, or the header repeated).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct InvalidCredentials;

impl fmt::Display for InvalidCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid Authorization: expected token <API key>")
    }
}
rejection!(InvalidCredentials, UNAUTHORIZED, "invalid_credentials");

/// 400: the body's `action.actionName` is not the last segment of the request path.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ActionMismatch;

impl fmt::Display for ActionMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("action.actionName does not match the last segment of the request path")
    }
}
rejection!(ActionMismatch, BAD_REQUEST, "action_mismatch");

/// 403: the request carries no proof that it arrived over HTTPS (no
/// [`ConnectionInfo`](crate::transport::ConnectionInfo) in its extensions). NUGU requires HTTPS
/// for Private Plays, so the layer fails closed.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct InsecureTransport;

impl fmt::Display for InsecureTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "refused: the request did not arrive over HTTPS (no transport proof from the server): \
             serve the play with nugu_proxy::server::Server, which attaches the proof (direct TLS, \
             or ServerBuilder::behind_tls_terminator behind a load balancer); under a plain-HTTP \
             test server only, PrivatePlayLayer::dangerous_allow_insecure_transport",
        )
    }
}
rejection!(InsecureTransport, FORBIDDEN, "insecure_transport");

/// 405: the method is not `POST` (NUGU's only method; compared exactly, so a lowercase `post` is
/// refused too) and the layer was not told to pass it through
/// ([`PrivatePlayLayer::pass_through_unauthenticated`](crate::PrivatePlayLayer::pass_through_unauthenticated)).
/// The answer carries `Allow: POST`.
///
/// ```
/// use nugu_proxy::rejection::MethodNotAllowed;
///
/// let response = MethodNotAllowed.into_response();
/// assert_eq!(response.status(), 405);
/// assert_eq!(response.headers()["allow"], "POST");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct MethodNotAllowed;

impl fmt::Display for MethodNotAllowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NUGU action requests are POST")
    }
}
rejection!(MethodNotAllowed, METHOD_NOT_ALLOWED, "method_not_allowed");

/// Any rejection of [`PrivatePlayLayer`](crate::PrivatePlayLayer).
#[derive(Clone)]
#[non_exhaustive]
pub enum PrivatePlayRejection {
    /// See [`PayloadTooLarge`].
    PayloadTooLarge(PayloadTooLarge),
    /// See [`MethodNotAllowed`].
    MethodNotAllowed(MethodNotAllowed),
    /// See [`UnsupportedMediaType`].
    UnsupportedMediaType(UnsupportedMediaType),
    /// See [`MalformedRequest`].
    MalformedRequest(MalformedRequest),
    /// See [`BodyReadFailed`].
    BodyReadFailed(BodyReadFailed),
    /// See [`MissingCredentials`].
    MissingCredentials(MissingCredentials),
    /// See [`InvalidCredentials`].
    InvalidCredentials(InvalidCredentials),
    /// See [`ActionMismatch`].
    ActionMismatch(ActionMismatch),
    /// See [`InsecureTransport`].
    InsecureTransport(InsecureTransport),
}

macro_rules! each_variant {
    ($self:ident, $r:ident => $e:expr) => {
        match $self {
            PrivatePlayRejection::PayloadTooLarge($r) => $e,
            PrivatePlayRejection::MethodNotAllowed($r) => $e,
            PrivatePlayRejection::UnsupportedMediaType($r) => $e,
            PrivatePlayRejection::MalformedRequest($r) => $e,
            PrivatePlayRejection::BodyReadFailed($r) => $e,
            PrivatePlayRejection::MissingCredentials($r) => $e,
            PrivatePlayRejection::InvalidCredentials($r) => $e,
            PrivatePlayRejection::ActionMismatch($r) => $e,
            PrivatePlayRejection::InsecureTransport($r) => $e,
        }
    };
}

impl PrivatePlayRejection {
    /// The HTTP status of this rejection.
    pub fn status(&self) -> StatusCode {
        fn status_of<T: Status>(_: &T) -> StatusCode {
            T::STATUS
        }
        each_variant!(self, r => status_of(r))
    }

    /// The machine-readable code in the JSON body's `error` field.
    pub fn code(&self) -> &'static str {
        fn code_of<T: Status>(_: &T) -> &'static str {
            T::CODE
        }
        each_variant!(self, r => code_of(r))
    }

    /// The HTTP response: [`Self::status`] and a JSON body.
    pub fn into_response(self) -> http::Response<Full<Bytes>> {
        each_variant!(self, r => r.into_response())
    }
}

/// Lets the enum reach each type's constants.
trait Status {
    const STATUS: StatusCode;
    const CODE: &'static str;
}

impl fmt::Display for PrivatePlayRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        each_variant!(self, r => fmt::Display::fmt(r, f))
    }
}

impl std::error::Error for PrivatePlayRejection {}

crate::report::debug_as_report!(PrivatePlayRejection);

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for PrivatePlayRejection {
    fn into_response(self) -> axum_core::response::Response {
        PrivatePlayRejection::into_response(self).map(axum_core::body::Body::new)
    }
}

/// The JSON error every refusal of the crate answers with: `{"error": code, "message": message}`
/// (and `WWW-Authenticate: token` on a 401, `Allow: POST` on a 405). Also used by the server for
/// its own refusals.
pub(crate) fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
) -> http::Response<Full<Bytes>> {
    let body = serde_json::json!({ "error": code, "message": message });
    let mut response = json_response(status, Bytes::from(body.to_string()));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("token"),
        );
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(http::header::ALLOW, http::HeaderValue::from_static("POST"));
    }
    response
}

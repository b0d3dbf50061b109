//! `GET {prefix}/health` and `GET /health`, answered by the server itself, before
//! authentication and the service.

use http::{Method, Request, Response, StatusCode};

use super::builder::Readiness;
use super::pipeline::{text, OwnBody};

/// The health check on the host root, as the NUGU docs show it polled, whatever the Web URL's
/// path prefix: a long run of non-200 answers there gets the play suspended.
const ROOT: &str = "/health";

/// Whether `req` is NUGU's health poll: `health_path` (`{prefix}/health`) or the root's.
pub(crate) fn is_health_check<B>(req: &Request<B>, health_path: &str) -> bool {
    let path = req.uri().path();
    (req.method() == Method::GET || req.method() == Method::HEAD)
        && (path == health_path || path == ROOT)
}

/// `200 OK` with body `OK`, or `503` while the readiness check says not ready.
pub(crate) fn answer(readiness: Option<&Readiness>) -> Response<OwnBody> {
    if readiness.is_none_or(|ready| ready()) {
        text(StatusCode::OK, "OK")
    } else {
        text(StatusCode::SERVICE_UNAVAILABLE, "NOT READY")
    }
}

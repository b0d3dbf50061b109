//! `GET {prefix}/health`, answered by the server itself, before authentication and the service.

use http::{Method, Request, Response, StatusCode};

use super::builder::Readiness;
use super::pipeline::{text, ResponseBody};

/// Whether `req` is NUGU's health poll for `health_path`.
pub(crate) fn is_health_check<B>(req: &Request<B>, health_path: &str) -> bool {
    (req.method() == Method::GET || req.method() == Method::HEAD) && req.uri().path() == health_path
}

/// `200 OK` with body `OK`, or `503` while the readiness check says not ready.
pub(crate) fn answer(readiness: Option<&Readiness>) -> Response<ResponseBody> {
    if readiness.is_none_or(|ready| ready()) {
        text(StatusCode::OK, "OK")
    } else {
        text(StatusCode::SERVICE_UNAVAILABLE, "NOT READY")
    }
}

//! What happens to one request before and around the user's service: connection facts into
//! the extensions, the terminator's HTTPS proof, the health check, the per-request timeout.

use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tower_service::Service;

use super::builder::Config;
use super::{forwarded, health};
use crate::transport::ConnectionInfo;

/// The error type the server accepts from a service or a body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every response the server sends: the service's, boxed, or the server's own.
pub(crate) type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;

/// A response the server writes itself.
pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<ResponseBody> {
    respond(status, "text/plain; charset=utf-8", body)
}

/// A small JSON error (`{"error": "..."}`) the server writes itself.
fn json_error(status: StatusCode, body: &'static str) -> Response<ResponseBody> {
    respond(status, "application/json", body)
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: &'static str,
) -> Response<ResponseBody> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The hyper service of one connection.
pub(crate) struct Pipeline<S> {
    pub(crate) config: Arc<Config>,
    /// Cloned into every request; for a terminator connection only once the request proved
    /// HTTPS.
    pub(crate) info: ConnectionInfo,
    /// Terminator mode: the request itself must say it arrived over HTTPS.
    pub(crate) require_forwarded_https: bool,
    pub(crate) inner: S,
}

type PipelineFuture =
    Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, Infallible>> + Send>>;

/// A tower service the server can run: it takes `Request<hyper::body::Incoming>`, answers
/// `Response<B>` for any `Send` body of [`Bytes`], and is `Clone + Send` (one clone per request).
///
/// Implemented for every such service (an axum `Router`, a service wrapped in
/// `PrivatePlayLayer`, a `tower::service_fn`); there is nothing to implement by hand.
pub trait ProxyService:
    Service<
        Request<Incoming>,
        Response = Response<Self::ResponseBody>,
        Error: Into<BoxError>,
        Future: Send,
    > + Clone
    + Send
    + 'static
{
    /// The service's response body.
    type ResponseBody: Body<Data = Bytes, Error: Into<BoxError>> + Send + 'static;
}

impl<S, B> ProxyService for S
where
    S: Service<Request<Incoming>, Response = Response<B>, Error: Into<BoxError>, Future: Send>
        + Clone
        + Send
        + 'static,
    B: Body<Data = Bytes, Error: Into<BoxError>> + Send + 'static,
{
    type ResponseBody = B;
}

impl<S: ProxyService> hyper::service::Service<Request<Incoming>> for Pipeline<S> {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = PipelineFuture;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        if health::is_health_check(&req, &self.config.health_path) {
            // Carries no personal data and must also answer a load balancer's own probe.
            let response = health::answer(self.config.readiness.as_ref());
            return Box::pin(async move { Ok(response) });
        }
        if self.require_forwarded_https && !forwarded::says_https(req.headers()) {
            tracing::warn!(
                peer = %self.info.peer_addr(),
                "refused a request from the trusted proxy without X-Forwarded-Proto: https"
            );
            return Box::pin(async {
                Ok(json_error(
                    StatusCode::FORBIDDEN,
                    r#"{"error":"https_required"}"#,
                ))
            });
        }
        req.extensions_mut().insert(self.info.clone());
        let mut service = self.inner.clone();
        let timeout = self.config.request_timeout;
        Box::pin(async move {
            let run = async {
                poll_fn(|cx| service.poll_ready(cx)).await?;
                service.call(req).await
            };
            Ok(match tokio::time::timeout(timeout, run).await {
                Ok(Ok(response)) => response.map(|body| body.map_err(Into::into).boxed_unsync()),
                Ok(Err(_)) => {
                    // The error text is the service's own and may quote request data: not logged.
                    tracing::error!("the service failed a request; answered 500");
                    json_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        r#"{"error":"internal_error"}"#,
                    )
                }
                Err(_) => {
                    tracing::warn!(
                        ?timeout,
                        "a request exceeded the request timeout; answered 504"
                    );
                    json_error(StatusCode::GATEWAY_TIMEOUT, r#"{"error":"timeout"}"#)
                }
            })
        })
    }
}

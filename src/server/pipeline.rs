//! What happens to one request before and around the user's service: connection facts into
//! the extensions, the terminator's HTTPS proof, the health check, the per-request timeout, no
//! body for a `HEAD`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, Extensions, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;
use hyper::body::Incoming;
use tower_service::Service;

use super::body::ServerBody;
use super::builder::Config;
use super::future::PipelineFuture;
use super::log_summary::{Reason, RefusalLog};
use super::stall::{InFlight, Tracked};
use super::watchdog::Watched;
use super::{forwarded, health, path};

/// The error type the server accepts from a service or a body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of a response the server writes itself.
pub(crate) type OwnBody = Full<Bytes>;

/// A response the server writes itself.
pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<OwnBody> {
    respond(status, "text/plain; charset=utf-8", body)
}

/// A JSON error the server writes itself: `{"error": code, "message": message}`, as the
/// layer's rejections.
pub(crate) fn json_error(status: StatusCode, code: &str, message: &str) -> Response<OwnBody> {
    crate::rejection::error_response(status, code, message)
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: &'static str,
) -> Response<OwnBody> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The hyper service of one connection.
pub(crate) struct Pipeline<S> {
    pub(crate) config: Arc<Config>,
    /// What every request starts its extensions with: the connection's `ConnectionInfo`, in a
    /// map with room for the layer's values (`ConnectionInfo::request_extensions`); for a
    /// terminator connection only once the request proved HTTPS.
    pub(crate) extensions: Extensions,
    /// For the log.
    pub(crate) peer: SocketAddr,
    /// Terminator mode: the request itself must say it arrived over HTTPS.
    pub(crate) require_forwarded_https: bool,
    /// Counts this connection's requests in flight (until their response is sent), for the
    /// idle timeout, and the progress of their responses, for the send timeout.
    pub(crate) watched: Arc<Watched>,
    /// Where refusals before authentication are counted.
    pub(crate) refusals: Arc<RefusalLog>,
    pub(crate) inner: S,
}

/// A tower service the server can run: it takes `Request<hyper::body::Incoming>`, answers
/// `Response<B>` for any `Send` body of [`Bytes`], and is `Clone + Send` (one clone per request).
///
/// Implemented for every such service (an axum `Router`, a service wrapped in
/// `PrivatePlayLayer`, a `tower::service_fn`); there is nothing to implement by hand.
///
/// An axum `Router` that still needs its state is not one: call `.with_state(state)` first.
/// The compiler's error then says so (and names the other usual causes):
///
/// ```compile_fail,E0277
/// # async fn run(server: nugu_proxy::server::Server) {
/// let app: axum::Router<u32> = axum::Router::new(); // no `.with_state(..)`
/// server.serve(app).await;
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a service the server can run (`ProxyService`)",
    label = "not a `ProxyService`",
    note = "the usual causes: an axum `Router<S>` that still needs its state (call \
            `.with_state(state)` to make it a `Router<()>`); a service that is not \
            `Clone + Send + 'static`; a response body whose data is not `bytes::Bytes`; \
            an error type that is not `Into<BoxError>`",
    note = "a service takes `http::Request<hyper::body::Incoming>`: wrap a service of \
            another request body in `PrivatePlayLayer`, which reads the body for it"
)]
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
    type Response = Response<Tracked<S::ResponseBody>>;
    type Error = Infallible;
    type Future = PipelineFuture<S>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        // In flight from the head until the response body is sent or dropped.
        let in_flight = InFlight::new(self.watched.clone());
        let head = req.method() == Method::HEAD;
        match self.admit(req) {
            Admission::Serve(req) => PipelineFuture::serve(
                self.inner.clone(),
                req,
                self.config.request_timeout,
                self.refusals.clone(),
                in_flight,
                head,
            ),
            Admission::Answer(response) => PipelineFuture::now(response, in_flight, head),
        }
    }
}

/// What the server does with a request: hands it to the service, or answers it itself.
enum Admission {
    Serve(Request<Incoming>),
    Answer(Response<OwnBody>),
}

impl<S: ProxyService> Pipeline<S> {
    /// The request for the service, with its connection's facts; or the server's own answer.
    fn admit(&self, mut req: Request<Incoming>) -> Admission {
        let health = health::is_health_check(&req, &self.config.health_path);
        if let Some(refusal) = refuse_head(&req, health, &self.config) {
            return Admission::Answer(refusal);
        }
        if health {
            // Carries no personal data and must also answer a load balancer's own probe.
            return Admission::Answer(health::answer(self.config.readiness.as_ref()));
        }
        if self.require_forwarded_https && !forwarded::says_https(req.headers()) {
            self.refusals.record(Reason::HttpsRequired);
            tracing::debug!(
                peer = %self.peer,
                "refused a request from the trusted proxy without X-Forwarded-Proto: https"
            );
            return Admission::Answer(json_error(
                StatusCode::FORBIDDEN,
                "https_required",
                "refused: the load balancer did not say the request arrived over HTTPS",
            ));
        }
        req.extensions_mut().extend(self.extensions.clone());
        Admission::Serve(req)
    }
}

/// The answer to a `HEAD`: the head a `GET` would get, and no body (RFC 9110 9.3.2).
///
/// hyper drops the body of a `HEAD` response over HTTP/1.1, but over HTTP/2 it sends it as DATA
/// frames, which the client must treat as malformed (RFC 9113 8.1.1): `h2` resets the stream with
/// `PROTOCOL_ERROR`. The `Content-Length` hyper would derive from the body is kept, as over
/// HTTP/1.1.
pub(crate) fn without_body<B>(response: Response<ServerBody<B>>) -> Response<ServerBody<B>>
where
    B: Body<Data = Bytes, Error: Into<BoxError>>,
{
    let (mut head, body) = response.into_parts();
    if let Some(len) = body.size_hint().exact().filter(|_| !body.is_end_stream()) {
        head.headers
            .entry(header::CONTENT_LENGTH)
            .or_insert_with(|| HeaderValue::from(len));
    }
    Response::from_parts(head, ServerBody::own(OwnBody::default()))
}

pub(crate) fn internal_error() -> Response<OwnBody> {
    json_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "the service failed to answer this request",
    )
}

/// The server's own checks of the request head, before the health check and the service: the
/// size of the head, then the path (but for the `health` check's).
fn refuse_head<B>(req: &Request<B>, health: bool, config: &Config) -> Option<Response<OwnBody>> {
    let limit = config.max_header_bytes;
    if head_size(req) > limit {
        tracing::debug!(limit, "refused a request head over the limit; answered 431");
        return Some(json_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            &format!("the request's target and headers are larger than {limit} bytes"),
        ));
    }
    if health {
        // `/health` is outside a path prefix, yet NUGU polls it.
        return None;
    }
    match path::check(req.uri().path(), &config.path_prefix) {
        Ok(()) => None,
        Err(path::Refusal::Malformed) => {
            tracing::debug!("refused a malformed request path; answered 400");
            Some(json_error(
                StatusCode::BAD_REQUEST,
                "bad_path",
                "the request path does not start with '/', or has a dot segment, an empty segment or an encoded separator",
            ))
        }
        Err(path::Refusal::OutsidePrefix) => {
            tracing::debug!("refused a request path outside the public URL's prefix; answered 404");
            Some(json_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "the request path is not under the proxy's public URL",
            ))
        }
    }
}

/// The bytes of the request target and header fields, as HTTP/1.1 would carry them
/// (`name: value\r\n` each).
fn head_size<B>(req: &Request<B>) -> usize {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    req.headers().iter().fold(target, |size, (name, value)| {
        size.saturating_add(name.as_str().len() + value.len() + 4)
    })
}

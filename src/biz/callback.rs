//! [`CallbackService`]: a tower service that receives what NUGU posts back (an announcement's
//! result) as a typed value and hands it to the publisher's code; and the pieces of a callback
//! body every receiver shares.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use serde::de::DeserializeOwned;

/// The largest callback body read (a group's result lists every user): 1 MiB.
pub const MAX_CALLBACK_BODY: usize = 1024 * 1024;

/// Receives NUGU's `POST` of a `T` and calls `handler` with it.
///
/// `T` is what the URL was given for: [`UserAnnouncementResult`](super::UserAnnouncementResult),
/// [`GroupAnnouncementResult`](super::GroupAnnouncementResult) or
/// [`SharedDeviceAnnouncementResult`](super::SharedDeviceAnnouncementResult) for an
/// announcement's `callBack`. It answers `200` once the handler has run, `405` (with
/// `Allow: POST`) to another method, `413` to a body over [`MAX_CALLBACK_BODY`] and `400` to one
/// that is not a `T`; unknown fields and codes are kept or ignored, never refused. Nothing of the
/// body is logged.
///
/// Anyone who can reach the URL can post to it: put an unguessable value in the path of the
/// `callBack` you hand out, and route only that path here. For a link's `confirmUrl`, use
/// [`LinkConfirmations`](super::LinkConfirmations): one URL per link, accepted once.
///
/// With axum:
///
/// ```
/// use axum::Router;
/// use nugu_proxy::biz::{CallbackService, UserAnnouncementResult};
///
/// let app: Router = Router::new().route_service(
///     "/nugu/announced/1b8e44",
///     CallbackService::new(|result: UserAnnouncementResult| async move {
///         println!("announcement: {}", result.result_code.as_str());
///     }),
/// );
/// ```
pub struct CallbackService<T, F> {
    handler: F,
    _value: PhantomData<fn() -> T>,
}

impl<T, F: Clone> Clone for CallbackService<T, F> {
    fn clone(&self) -> Self {
        Self {
            handler: self.handler.clone(),
            _value: PhantomData,
        }
    }
}

impl<T, F> fmt::Debug for CallbackService<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackService")
            .field("value", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

impl<T, F, Fut> CallbackService<T, F>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = ()>,
{
    /// A service that hands each received `T` to `handler`.
    pub fn new(handler: F) -> Self {
        Self {
            handler,
            _value: PhantomData,
        }
    }
}

impl<T, F, Fut, B> tower_service::Service<Request<B>> for CallbackService<T, F>
where
    T: DeserializeOwned + Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
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
        let handler = self.handler.clone();
        Box::pin(async move {
            if let Some(refused) = post_only(&request) {
                return Ok(refused);
            }
            let value: T = match read_json(request.into_body()).await {
                Ok(value) => value,
                Err(refused) => return Ok(refused),
            };
            handler(value).await;
            Ok(status(StatusCode::OK))
        })
    }
}

/// `405` (with `Allow: POST`) to a method other than `POST`: NUGU posts its callbacks.
pub(super) fn post_only<B>(request: &Request<B>) -> Option<Response<Full<Bytes>>> {
    if request.method() == Method::POST {
        return None;
    }
    let mut answer = status(StatusCode::METHOD_NOT_ALLOWED);
    answer
        .headers_mut()
        .insert(header::ALLOW, http::HeaderValue::from_static("POST"));
    Some(answer)
}

/// Reads a callback body of at most [`MAX_CALLBACK_BODY`] as a `T`, or the answer to give:
/// `413` to a larger one, `400` to one that is not a `T`. Nothing of the body is logged.
pub(super) async fn read_json<T, B>(body: B) -> Result<T, Response<Full<Bytes>>>
where
    T: DeserializeOwned,
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body = match Limited::new(body, MAX_CALLBACK_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => {
            return Err(status(StatusCode::PAYLOAD_TOO_LARGE));
        }
        Err(_) => return Err(status(StatusCode::BAD_REQUEST)),
    };
    serde_json::from_slice(&body).map_err(|err| {
        tracing::debug!(
            value = std::any::type_name::<T>(),
            line = err.line(),
            column = err.column(),
            "refused a NUGU callback body"
        );
        status(StatusCode::BAD_REQUEST)
    })
}

pub(super) fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}

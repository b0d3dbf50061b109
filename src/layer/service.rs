//! [`PrivatePlayService`]: the middleware itself.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use tower_service::Service;

use super::check;
use super::future::ResponseFuture;
use super::layer::Config;
use super::read::ReadBody;
use super::{PrivatePlayLayer, ResponseBody};
use crate::rejection::PrivatePlayRejection;

/// The service [`PrivatePlayLayer`] wraps around yours; see the layer for what it checks.
///
/// The inner service receives `Request<Full<Bytes>>` (the body, read once) and answers with
/// `Response<ResBody>`.
#[derive(Clone, Debug)]
pub struct PrivatePlayService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> PrivatePlayService<S> {
    /// Wraps `inner` with `layer`'s configuration.
    pub fn new(inner: S, layer: PrivatePlayLayer) -> Self {
        Self {
            inner,
            config: layer.config,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, ResBody> Service<Request<B>> for PrivatePlayService<S>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone,
    B: Body,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let caller = match check::head(&request, &self.config) {
            Ok(caller) => caller,
            // Declared over the limit: answered at once, the body is not worth reading.
            Err(rejection @ PrivatePlayRejection::PayloadTooLarge(_)) => {
                return ResponseFuture::rejected(rejection)
            }
            Err(rejection) => {
                let body = request.into_body();
                return ResponseFuture::rejected_after_draining(
                    body,
                    self.config.body_limit,
                    rejection,
                );
            }
        };
        // The inner service is called once the body is read; take the one that was made ready
        // and leave a clone in its place (the usual tower pattern).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let (parts, body) = request.into_parts();
        let read = ReadBody::new(body, self.config.body_limit);
        ResponseFuture::reading(read, parts, caller, inner, self.config.clone())
    }
}

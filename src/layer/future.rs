//! [`ResponseFuture`]: reads the body, runs the body checks, then calls the inner service; or,
//! for a request refused from its head, discards the body before answering. An enum of states
//! rather than a boxed future.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use http::request::Parts;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use pin_project_lite::pin_project;
use tower_service::Service;

use super::check::{self, Caller, Verdict};
use super::layer::Config;
use super::read::{ReadBody, ReadError};
use super::ResponseBody;
use crate::rejection::{BodyReadFailed, PayloadTooLarge, PrivatePlayRejection};

pin_project! {
    /// The future of [`PrivatePlayService`](super::PrivatePlayService).
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<Full<Bytes>>>,
        B: Body,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<Full<Bytes>>>,
        B: Body,
    {
        Reading {
            #[pin]
            read: ReadBody<B>,
            next: Option<Next<S>>,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
        // Refused from its head: the body is read and dropped (at most `left` more bytes)
        // before the answer, since answering an HTTP/2 request whose body is still coming
        // makes hyper reset the stream, and some clients (curl) then lose the answer.
        Draining {
            #[pin]
            body: B,
            left: usize,
            response: Option<Response<Full<Bytes>>>,
        },
        Answered {
            response: Option<Response<Full<Bytes>>>,
        },
    }
}

/// What the future needs once the body is read.
struct Next<S> {
    parts: Parts,
    caller: Caller,
    inner: S,
    config: Arc<Config>,
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<Full<Bytes>>>,
    B: Body,
{
    pub(crate) fn reading(
        read: ReadBody<B>,
        parts: Parts,
        caller: Caller,
        inner: S,
        config: Arc<Config>,
    ) -> Self {
        let next = Some(Next {
            parts,
            caller,
            inner,
            config,
        });
        Self {
            state: State::Reading { read, next },
        }
    }

    pub(crate) fn rejected(rejection: PrivatePlayRejection) -> Self {
        Self::answered(reject(rejection))
    }

    /// Answers `rejection` once `body` is discarded, or at once if it grows past `limit`.
    pub(crate) fn rejected_after_draining(
        body: B,
        limit: usize,
        rejection: PrivatePlayRejection,
    ) -> Self {
        Self {
            state: State::Draining {
                body,
                left: limit,
                response: Some(reject(rejection)),
            },
        }
    }

    fn answered(response: Response<Full<Bytes>>) -> Self {
        Self {
            state: State::Answered {
                response: Some(response),
            },
        }
    }
}

fn reject(rejection: PrivatePlayRejection) -> Response<Full<Bytes>> {
    tracing::debug!(status = %rejection.status(), error = rejection.code(), "NUGU request rejected");
    rejection.into_response()
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>>,
    B: Body,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Reading { read, next } => {
                    let read = ready!(read.poll(cx));
                    let Some(Next {
                        parts,
                        caller,
                        mut inner,
                        config,
                    }) = next.take()
                    else {
                        // Only reachable if polled again after a panic in this very branch.
                        return Poll::Ready(Ok(layer_response(reject(BodyReadFailed.into()))));
                    };
                    let verdict = match read {
                        Ok(body) => check::body(parts, body, caller, &config),
                        Err(ReadError::TooLarge) => {
                            Err(PayloadTooLarge::new(config.body_limit).into())
                        }
                        Err(ReadError::Failed) => Err(BodyReadFailed.into()),
                    };
                    match verdict {
                        Ok(Verdict::Forward(request)) => {
                            let future = inner.call(request);
                            state.set(State::Calling { future });
                        }
                        Ok(Verdict::Answer(response)) => {
                            return Poll::Ready(Ok(layer_response(response)))
                        }
                        Err(rejection) => {
                            return Poll::Ready(Ok(layer_response(reject(rejection))))
                        }
                    }
                }
                StateProj::Calling { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
                StateProj::Draining {
                    mut body,
                    left,
                    response,
                } => {
                    // A body that fails or grows past the limit ends the wait: the answer goes
                    // out at once, as it would have without draining.
                    while !body.is_end_stream() {
                        match ready!(body.as_mut().poll_frame(cx)) {
                            Some(Ok(frame)) => {
                                let len = frame.data_ref().map_or(0, Buf::remaining);
                                let Some(rest) = left.checked_sub(len) else {
                                    break;
                                };
                                *left = rest;
                            }
                            Some(Err(_)) | None => break,
                        }
                    }
                    let response = response
                        .take()
                        .unwrap_or_else(|| reject(BodyReadFailed.into()));
                    return Poll::Ready(Ok(layer_response(response)));
                }
                StateProj::Answered { response } => {
                    let response = response
                        .take()
                        .unwrap_or_else(|| reject(BodyReadFailed.into()));
                    return Poll::Ready(Ok(layer_response(response)));
                }
            }
        }
    }
}

fn layer_response<B>(response: Response<Full<Bytes>>) -> Response<ResponseBody<B>> {
    response.map(ResponseBody::layer)
}

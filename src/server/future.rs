//! The future of one request through the server: its own answer, or the service's under the
//! request timeout with every panic caught. A named type rather than a boxed `async` block,
//! which cost an allocation and several moves of the request per request.

use std::convert::Infallible;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use pin_project_lite::pin_project;
use tokio::time::Sleep;

use super::body::ServerBody;
use super::log_summary::{Reason, RefusalLog};
use super::pipeline::{internal_error, json_error, without_body, BoxError, OwnBody, ProxyService};
use super::stall::{InFlight, Tracked};

pin_project! {
    /// What `Pipeline::call` returns.
    pub(crate) struct PipelineFuture<S>
    where
        S: ProxyService,
    {
        #[pin]
        state: State<S>,
        // Taken by the response.
        in_flight: Option<InFlight>,
        head: bool,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S>
    where
        S: ProxyService,
    {
        // The server's own answer.
        Now { response: Option<Response<OwnBody>> },
        // The service's, once ready, called, and done.
        Serve {
            service: S,
            #[pin]
            step: Step<S>,
            #[pin]
            deadline: Sleep,
            timeout: Duration,
            refusals: Arc<RefusalLog>,
        },
    }
}

pin_project! {
    // The request before the service is ready, then the service's future: one or the other,
    // in the same bytes (the future is moved into its task and back out of it).
    #[project = StepProj]
    enum Step<S>
    where
        S: ProxyService,
    {
        Ready { req: Option<Request<Incoming>> },
        Call { #[pin] future: S::Future },
    }
}

impl<S: ProxyService> PipelineFuture<S> {
    /// Answers at once with `response`.
    pub(crate) fn now(response: Response<OwnBody>, in_flight: InFlight, head: bool) -> Self {
        Self {
            state: State::Now {
                response: Some(response),
            },
            in_flight: Some(in_flight),
            head,
        }
    }

    /// Answers with what `service` answers to `req` within `timeout`.
    pub(crate) fn serve(
        service: S,
        req: Request<Incoming>,
        timeout: Duration,
        refusals: Arc<RefusalLog>,
        in_flight: InFlight,
        head: bool,
    ) -> Self {
        Self {
            state: State::Serve {
                service,
                step: Step::Ready { req: Some(req) },
                deadline: tokio::time::sleep(timeout),
                timeout,
                refusals,
            },
            in_flight: Some(in_flight),
            head,
        }
    }
}

impl<S: ProxyService> Future for PipelineFuture<S> {
    type Output = Result<Response<Tracked<S::ResponseBody>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match this.state.project() {
            StateProj::Now { response } => response.take().map(|r| r.map(ServerBody::own)),
            StateProj::Serve {
                service,
                step,
                deadline,
                timeout,
                refusals,
            } => {
                let served = ready!(poll_service(service, step, cx));
                Some(match served {
                    Some(response) => response,
                    None if deadline.poll(cx).is_ready() => {
                        refusals.record(Reason::RequestTimeout);
                        tracing::debug!(
                            ?timeout,
                            "a request exceeded the request timeout; answered 504"
                        );
                        json_error(
                            StatusCode::GATEWAY_TIMEOUT,
                            "timeout",
                            "the request took longer than the server's request timeout",
                        )
                        .map(ServerBody::own)
                    }
                    None => return Poll::Pending,
                })
            }
        };
        let (Some(mut response), Some(in_flight)) = (response, this.in_flight.take()) else {
            // Polled again after it completed, which no caller does.
            return Poll::Pending;
        };
        if *this.head {
            response = without_body(response);
        }
        Poll::Ready(Ok(response.map(|body| Tracked::new(body, in_flight))))
    }
}

/// Polls the service until ready, calls it, and polls its future: `Ready(Some(response))` once
/// answered (a 500 if it failed or panicked), `Ready(None)` while it is still working (so that
/// the deadline is polled), never `Pending`.
///
/// A panic in `poll_ready`, `call` or the future is caught: the client gets a 500 and the
/// connection (with its other HTTP/2 streams) goes on. Past a panic nothing is polled again.
fn poll_service<S: ProxyService>(
    service: &mut S,
    mut step: Pin<&mut Step<S>>,
    cx: &mut Context<'_>,
) -> Poll<Option<Response<ServerBody<S::ResponseBody>>>> {
    let polled = catch_unwind(AssertUnwindSafe(|| -> Poll<Result<_, BoxError>> {
        loop {
            let req = match step.as_mut().project() {
                StepProj::Call { future } => return future.poll(cx).map_err(Into::into),
                StepProj::Ready { req } => {
                    ready!(service.poll_ready(cx)).map_err(Into::into)?;
                    req.take()
                }
            };
            match req {
                Some(req) => step.set(Step::Call {
                    future: service.call(req),
                }),
                None => return Poll::Ready(Err("polled after it completed".into())),
            }
        }
    }));
    Poll::Ready(match polled {
        Ok(Poll::Pending) => None,
        Ok(Poll::Ready(Ok(response))) => Some(response.map(ServerBody::service)),
        Ok(Poll::Ready(Err(_))) => {
            // The error text is the service's own and may quote request data: not logged.
            tracing::error!("the service failed a request; answered 500");
            Some(internal_error().map(ServerBody::own))
        }
        Err(payload) => {
            // Neither is the panic message, for the same reason.
            drop(payload);
            tracing::error!("the service panicked on a request; answered 500");
            Some(internal_error().map(ServerBody::own))
        }
    })
}

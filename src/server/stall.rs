//! The send timeout: a response whose body makes no progress for it is reset.
//!
//! A client that never reads (an HTTP/2 window of 0, a TCP window that stays full) would
//! otherwise hold its response, its request's slot in the idle timeout's count, and so its
//! connection, forever. Progress is the body handing hyper its next frame, which hyper asks for
//! only once the previous one is on its way; the clock starts when the response head is ready.
//!
//! Each response is watched by whoever owns it: an HTTP/2 response by its stream's task, which
//! [`StreamExecutor`] spawns (dropping that task resets the stream), an HTTP/1.1 response by its
//! connection's task, which closes the connection (the only way to end an HTTP/1.1 response
//! early). Either way the connection is closed: a client that does not read its answers gets
//! no more of them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::idle::{Activity, InFlight};
use super::pipeline::{BoxError, ResponseBody};

tokio::task_local! {
    /// The clock of the responses being sent by the current task: one HTTP/2 stream's, or one
    /// HTTP/1.1 connection's.
    static SENDING: Arc<Activity>;
}

/// Runs `task` (an HTTP/2 stream or an HTTP/1.1 connection) with `sending` as the clock of the
/// responses it sends.
pub(crate) fn watched<F: Future>(
    sending: Arc<Activity>,
    task: F,
) -> impl Future<Output = F::Output> {
    SENDING.scope(sending, task)
}

/// hyper's executor for HTTP/2 streams: each runs in its own task, dropped (which resets the
/// stream) once its response has made no progress for the send timeout.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StreamExecutor {
    pub(crate) send_timeout: Duration,
}

impl<F> hyper::rt::Executor<F> for StreamExecutor
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, stream: F) {
        let send_timeout = self.send_timeout;
        tokio::spawn(async move {
            let sending = Activity::new();
            tokio::select! {
                () = watched(sending.clone(), stream) => {}
                () = sending.stalled_for(send_timeout) => {
                    tracing::debug!("reset an HTTP/2 response that made no progress");
                }
            }
        });
    }
}

pin_project! {
    /// Every response body the server sends: it keeps its request in flight (the idle
    /// timeout's count) until it is sent or dropped, and shows the send timeout its progress.
    pub(crate) struct Tracked {
        #[pin]
        inner: ResponseBody,
        guards: Option<Guards>,
    }
}

struct Guards {
    request: InFlight,
    sending: Option<InFlight>,
}

impl Drop for Guards {
    fn drop(&mut self) {
        // Reset for want of progress: the connection is closed too (see the module's doc).
        if self
            .sending
            .as_ref()
            .is_some_and(|s| s.activity().was_stalled())
        {
            self.request.activity().close();
        }
    }
}

impl Tracked {
    /// Wraps a response body about to be handed to hyper. Call it from the task that sends
    /// the response (in the response future), where that task's clock is found.
    pub(crate) fn new(inner: ResponseBody, request: InFlight) -> Self {
        let sending = SENDING.try_with(|sending| sending.begin()).ok();
        Self {
            inner,
            guards: Some(Guards { request, sending }),
        }
    }
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(_))) => {
                if let Some(sending) = this.guards.as_ref().and_then(|g| g.sending.as_ref()) {
                    sending.activity().touch();
                }
            }
            Poll::Ready(None | Some(Err(_))) => *this.guards = None,
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

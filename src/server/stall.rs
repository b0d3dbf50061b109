//! The send timeout: a response whose body makes no progress for it is reset.
//!
//! A client that never reads (an HTTP/2 window of 0, a TCP window that stays full) would
//! otherwise hold its response, its request's slot in the idle timeout's count, and so its
//! connection, forever. Progress is the body handing hyper its next frame, which hyper asks for
//! only once the previous one is on its way; the clock starts when the response head is ready.
//!
//! An HTTP/2 response is watched by its stream's task, which [`StreamExecutor`] spawns (dropping
//! that task resets the stream); an HTTP/1.1 response by its connection's watchdog, which closes
//! the connection (the only way to end an HTTP/1.1 response early). Either way the connection
//! is closed: a client that does not read its answers gets no more of them.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::{Instant, MissedTickBehavior};

use super::body::ServerBody;
use super::idle::{tick_for, Clock, Quiet};
use super::pipeline::BoxError;
use super::watchdog::{Order, Watched};

tokio::task_local! {
    /// The clock of the response the current HTTP/2 stream's task sends.
    static STREAM: Arc<Clock>;
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
            let clock = Arc::new(Clock::default());
            let mut stream = pin!(STREAM.scope(clock.clone(), stream));
            // A timer only for a stream that waits with its response under way; most send
            // their whole response the first time they are polled.
            let mut watch = None;
            poll_fn(|cx| {
                if stream.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(());
                }
                if watch.is_none() && !clock.busy() {
                    return Poll::Pending;
                }
                let (ticks, quiet) = watch.get_or_insert_with(|| {
                    let tick = tick_for(send_timeout);
                    let mut ticks = tokio::time::interval_at(Instant::now() + tick, tick);
                    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
                    let now = Instant::now();
                    (ticks, Quiet::new(&clock, now, now))
                });
                while ticks.poll_tick(cx).is_ready() {
                    let (busy, quiet) = quiet.observe(&clock, Instant::now());
                    if busy && quiet >= send_timeout {
                        clock.mark_stalled();
                        tracing::debug!("reset an HTTP/2 response that made no progress");
                        return Poll::Ready(());
                    }
                }
                Poll::Pending
            })
            .await;
        });
    }
}

/// A request in flight, from its head until its response body is sent or dropped: it keeps
/// its connection from being idle.
pub(crate) struct InFlight(Arc<Watched>);

impl InFlight {
    pub(crate) fn new(watched: Arc<Watched>) -> Self {
        watched.requests.start();
        Self(watched)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.requests.end();
    }
}

pin_project! {
    /// Every response body the server sends: it keeps its request in flight (the idle
    /// timeout's count) until it is sent or dropped, and shows the send timeout its progress.
    pub(crate) struct Tracked<B> {
        #[pin]
        inner: ServerBody<B>,
        sending: Option<Sending>,
    }
}

/// A response being sent.
struct Sending {
    request: InFlight,
    /// HTTP/2: its stream's clock; HTTP/1.1: `None`, the connection's.
    stream: Option<Arc<Clock>>,
}

impl Sending {
    fn clock(&self) -> &Clock {
        self.stream.as_deref().unwrap_or(&self.request.0.sending)
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        self.clock().end();
        // Reset for want of progress: the connection is closed too (see the module's doc).
        if self.stream.as_ref().is_some_and(|s| s.was_stalled()) {
            tracing::debug!("closing a connection that does not read its responses");
            self.request.0.signal.raise(Order::Close);
        }
    }
}

impl<B> Tracked<B> {
    /// Wraps a response body about to be handed to hyper. Call it from the task that sends
    /// the response (in the response future), where an HTTP/2 stream's clock is found.
    pub(crate) fn new(inner: ServerBody<B>, request: InFlight) -> Self {
        let sending = Sending {
            request,
            stream: STREAM.try_with(Arc::clone).ok(),
        };
        sending.clock().start();
        Self {
            inner,
            sending: Some(sending),
        }
    }
}

impl<B> Body for Tracked<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
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
                if let Some(sending) = this.sending.as_ref() {
                    sending.clock().touch();
                }
            }
            Poll::Ready(None | Some(Err(_))) => *this.sending = None,
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

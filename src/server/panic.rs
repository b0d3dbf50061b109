//! A panic in the service (its `call`, its future, or its response body) is caught here rather
//! than unwinding through hyper's connection task, which would drop the connection, and every
//! other HTTP/2 stream on it, without an answer.
//!
//! The panic's payload is dropped unread: a panic message may quote request data, so it is
//! neither logged nor sent. (The process's panic hook still runs first; the standard one prints
//! the message to stderr. An application that wants no request data there either installs its
//! own hook, see `SECURITY.md`.)

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::pipeline::BoxError;

/// The service panicked.
#[derive(Debug)]
pub(crate) struct Panicked;

impl std::fmt::Display for Panicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the service panicked while writing the response body")
    }
}

impl std::error::Error for Panicked {}

pin_project! {
    /// A response body whose panic becomes a body error: hyper then ends that response (HTTP/1.1
    /// closes the connection, HTTP/2 resets the stream) and the other streams go on.
    pub(crate) struct CatchUnwindBody<B> {
        #[pin]
        inner: B,
        panicked: bool,
    }
}

impl<B> CatchUnwindBody<B> {
    pub(crate) fn new(inner: B) -> Self {
        Self {
            inner,
            panicked: false,
        }
    }
}

impl<B> Body for CatchUnwindBody<B>
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
        if *this.panicked {
            return Poll::Ready(None);
        }
        let inner = this.inner;
        match catch_unwind(AssertUnwindSafe(|| inner.poll_frame(cx))) {
            Ok(poll) => poll.map(|frame| frame.map(|r| r.map_err(Into::into))),
            Err(payload) => {
                drop(payload);
                *this.panicked = true;
                tracing::error!("the service's response body panicked; the response was cut off");
                Poll::Ready(Some(Err(Box::new(Panicked))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.panicked || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.panicked {
            SizeHint::with_exact(0)
        } else {
            self.inner.size_hint()
        }
    }
}

//! [`ReadBody`]: reads a request body whole, up to the layer's limit.
//!
//! `http_body_util`'s `Limited` + `collect()` queue every frame in a `VecDeque` and box the
//! limit error; a NUGU request is one or two frames of 1-2 KB, so this keeps the first frame
//! as it came (no copy, no allocation) and copies only when a second one arrives.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http_body::Body;
use pin_project_lite::pin_project;

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// The body grew past the limit.
    TooLarge,
    /// The body failed (the client broke off, a malformed chunk...).
    Failed,
}

pin_project! {
    /// Reads `body` to its end, failing once it exceeds `limit` bytes.
    pub(crate) struct ReadBody<B> {
        #[pin]
        body: B,
        limit: usize,
        read: usize,
        first: Option<Bytes>,
        rest: Option<BytesMut>,
    }
}

impl<B> ReadBody<B> {
    pub(crate) fn new(body: B, limit: usize) -> Self {
        Self {
            body,
            limit,
            read: 0,
            first: None,
            rest: None,
        }
    }
}

impl<B: Body> Future for ReadBody<B> {
    type Output = Result<Bytes, ReadError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let Some(frame) = ready!(this.body.as_mut().poll_frame(cx)) else {
                let body = match (this.rest.take(), this.first.take()) {
                    (Some(rest), _) => rest.freeze(),
                    (None, first) => first.unwrap_or_default(),
                };
                return Poll::Ready(Ok(body));
            };
            let Ok(mut data) = frame.map_err(|_| ReadError::Failed)?.into_data() else {
                continue; // trailers: nothing a NUGU request uses
            };
            let len = data.remaining();
            *this.read += len;
            if *this.read > *this.limit {
                return Poll::Ready(Err(ReadError::TooLarge));
            }
            // For `Bytes` this is the same buffer, not a copy.
            let data = data.copy_to_bytes(len);
            if let Some(rest) = this.rest.as_mut() {
                rest.extend_from_slice(&data);
            } else if let Some(first) = this.first.take() {
                let hint = this.body.size_hint().lower() as usize;
                let mut rest = BytesMut::with_capacity((*this.read + hint).min(*this.limit));
                rest.extend_from_slice(&first);
                rest.extend_from_slice(&data);
                *this.rest = Some(rest);
            } else {
                *this.first = Some(data);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Frame;
    use http_body_util::StreamBody;

    fn frames(
        parts: Vec<Result<&'static [u8], ()>>,
    ) -> StreamBody<impl futures_util::Stream<Item = Result<Frame<Bytes>, ()>>> {
        StreamBody::new(futures_util::stream::iter(
            parts
                .into_iter()
                .map(|p| p.map(|b| Frame::data(Bytes::from_static(b)))),
        ))
    }

    /// The futures here never wait: one poll finishes them.
    fn now<F: Future>(future: F) -> F::Output {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(future).poll(&mut cx) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("pending"),
        }
    }

    #[test]
    fn one_frame_is_kept_as_it_came() {
        let data = Bytes::from_static(b"{\"a\":1}");
        let body = http_body_util::Full::new(data.clone());
        let read = now(ReadBody::new(body, 64)).unwrap();
        assert_eq!(read, data);
        assert_eq!(read.as_ptr(), data.as_ptr(), "no copy");
    }

    #[test]
    fn frames_are_joined_and_the_limit_counts_them_all() {
        let read = now(ReadBody::new(
            frames(vec![Ok(b"ab"), Ok(b"cd"), Ok(b"e")]),
            5,
        ));
        assert_eq!(read.unwrap(), Bytes::from_static(b"abcde"));
        let read = now(ReadBody::new(frames(vec![Ok(b"abc"), Ok(b"def")]), 5));
        assert_eq!(read, Err(ReadError::TooLarge));
        let read = now(ReadBody::new(frames(vec![Ok(b"abc"), Err(())]), 5));
        assert_eq!(read, Err(ReadError::Failed));
        let read = now(ReadBody::new(http_body_util::Empty::<Bytes>::new(), 5));
        assert_eq!(read.unwrap(), Bytes::new());
    }
}

//! The body of every response the server sends: the service's, its panics caught, or the
//! server's own. An enum rather than a boxed body: no allocation and no dynamic call per frame.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::panic::CatchUnwindBody;
use super::pipeline::{BoxError, OwnBody};

pin_project! {
    #[project = ServerBodyProj]
    pub(crate) enum ServerBody<B> {
        Service { #[pin] body: CatchUnwindBody<B> },
        Own { #[pin] body: OwnBody },
    }
}

impl<B> ServerBody<B> {
    pub(crate) fn service(body: B) -> Self {
        Self::Service {
            body: CatchUnwindBody::new(body),
        }
    }

    pub(crate) fn own(body: OwnBody) -> Self {
        Self::Own { body }
    }
}

impl<B> Body for ServerBody<B>
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
        match self.project() {
            ServerBodyProj::Service { body } => body.poll_frame(cx),
            ServerBodyProj::Own { body } => body
                .poll_frame(cx)
                .map(|frame| frame.map(|r| r.map_err(|never| match never {}))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Service { body } => body.is_end_stream(),
            Self::Own { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Service { body } => body.size_hint(),
            Self::Own { body } => body.size_hint(),
        }
    }
}

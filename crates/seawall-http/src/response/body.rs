use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The body of a response from [`ErrorResponse`](crate::ErrorResponse):
    /// the inner service's body, untouched, or the short fixed body of a
    /// response made from an error.
    ///
    /// Its error type is the inner body's, so it can be handed to axum or
    /// hyper wherever the inner body could.
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Fixed { data: Option<Bytes> },
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        ResponseBody {
            kind: Kind::Inner { body },
        }
    }

    pub(crate) fn fixed(data: Bytes) -> Self {
        ResponseBody {
            kind: Kind::Fixed { data: Some(data) },
        }
    }

    /// Returns `true` when this is a body that [`ErrorResponse`](crate::ErrorResponse)
    /// made from an error, not the inner service's.
    pub fn is_fixed(&self) -> bool {
        matches!(self.kind, Kind::Fixed { .. })
    }
}

impl<B> Body for ResponseBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Fixed { data } => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Fixed { data } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Fixed { data } => {
                let len = data.as_ref().map_or(0, Bytes::len);
                SizeHint::with_exact(len as u64)
            }
        }
    }
}

impl<B> fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Inner { .. } => f.write_str("ResponseBody::Inner(..)"),
            Kind::Fixed { data } => f
                .debug_struct("ResponseBody::Fixed")
                .field("remaining", &data.as_ref().map_or(0, Bytes::len))
                .finish(),
        }
    }
}

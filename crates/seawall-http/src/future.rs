//! The response future of [`ErrorResponse`](crate::ErrorResponse).

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::Response;
use pin_project_lite::pin_project;
use seawall_core::BoxError;

use crate::response::mapping::Mapping;
use crate::response::ResponseBody;

pin_project! {
    /// The response future of [`ErrorResponse`](crate::ErrorResponse): the
    /// inner service's response with its body wrapped, or the response made
    /// from its error. It never fails.
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
        mapping: Mapping,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Inner { #[pin] future: F },
        Failed { error: Option<BoxError> },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn inner(future: F, mapping: Mapping) -> Self {
        ResponseFuture {
            kind: Kind::Inner { future },
            mapping,
        }
    }

    pub(crate) fn failed(error: BoxError, mapping: Mapping) -> Self {
        ResponseFuture {
            kind: Kind::Failed { error: Some(error) },
            mapping,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Response<ResponseBody<B>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let error: BoxError = match this.kind.project() {
            KindProj::Inner { future } => match ready!(future.poll(cx)) {
                Ok(response) => return Poll::Ready(Ok(response.map(ResponseBody::inner))),
                Err(error) => error.into(),
            },
            KindProj::Failed { error } => error
                .take()
                .expect("ResponseFuture polled after it completed"),
        };
        Poll::Ready(Ok(this.mapping.error_response(&*error)))
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Inner { .. } => "inner",
            Kind::Failed { .. } => "failed",
        };
        f.debug_struct("ResponseFuture")
            .field("kind", &kind)
            .finish()
    }
}

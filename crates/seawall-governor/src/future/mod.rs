//! Response futures.

mod waiting;

pub use waiting::WaitingFuture;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use seawall_core::future::Refused;
use seawall_core::BoxError;

pin_project! {
    /// The future of a [`RateLimit`](crate::RateLimit) call: the inner
    /// service's future, or a refusal that fails on its first poll.
    ///
    /// It holds nothing of the limiter: an admitted request was counted
    /// when it was admitted, and dropping this future does not give its
    /// token back (the inner service may already have started the work).
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Called {
            #[pin]
            future: F,
        },
        Refused {
            error: Refused<BoxError>,
        },
    }
}

impl<F> ResponseFuture<F> {
    #[inline]
    pub(crate) fn called(future: F) -> Self {
        ResponseFuture {
            kind: Kind::Called { future },
        }
    }

    #[cold]
    pub(crate) fn refused(error: BoxError) -> Self {
        ResponseFuture {
            kind: Kind::Refused {
                error: Refused::new(error),
            },
        }
    }
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Called { future } => future.poll(cx).map_err(Into::into),
            KindProj::Refused { error } => Poll::Ready(Err(error.take())),
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            Kind::Called { .. } => "called",
            Kind::Refused { error } if error.is_pending() => "refused",
            Kind::Refused { .. } => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

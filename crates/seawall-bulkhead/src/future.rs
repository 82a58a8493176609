//! Response futures.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use seawall_core::future::Refused;
use seawall_core::rejection::BulkheadFull;
use seawall_core::BoxError;

use crate::shared::Permit;

pin_project! {
    /// The future of a [`Bulkhead`](crate::Bulkhead) call: the inner
    /// service's future holding a permit, or a refusal.
    ///
    /// The permit is given back when the inner future completes or when
    /// this future is dropped, whichever comes first.
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Admitted {
            #[pin]
            future: F,
            permit: Option<Permit>,
        },
        Refused {
            // Boxed already: the future stays small for admitted calls.
            error: Refused<BoxError>,
        },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn admitted(future: F, permit: Permit) -> Self {
        ResponseFuture {
            kind: Kind::Admitted {
                future,
                permit: Some(permit),
            },
        }
    }

    #[cold]
    pub(crate) fn refused(error: BulkheadFull) -> Self {
        ResponseFuture {
            kind: Kind::Refused {
                error: Refused::new(error.into()),
            },
        }
    }

    /// Polls the inner future, or yields the refusal; once the call is
    /// done, `finish` gets the output and the permit's slot, to drop the
    /// permit in place or to move it on.
    #[inline]
    pub(crate) fn poll_then<T, E, R>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        finish: impl FnOnce(Result<T, BoxError>, &mut Option<Permit>) -> R,
    ) -> Poll<R>
    where
        F: Future<Output = Result<T, E>>,
        E: Into<BoxError>,
    {
        match self.project().kind.project() {
            KindProj::Admitted { future, permit } => {
                let output = ready!(future.poll(cx));
                Poll::Ready(finish(output.map_err(Into::into), permit))
            }
            KindProj::Refused { error } => Poll::Ready(finish(Err(error.take()), &mut None)),
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
        // The permit drops in place as soon as the inner call is done.
        self.poll_then(cx, |output, permit| {
            *permit = None;
            output
        })
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            Kind::Admitted {
                permit: Some(_), ..
            } => "admitted",
            Kind::Admitted { permit: None, .. } => "done",
            Kind::Refused { error } if error.is_pending() => "refused",
            Kind::Refused { .. } => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

#[cfg(feature = "http")]
pub use crate::http_service::HttpResponseFuture;

//! Response futures.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
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
            error: Option<BoxError>,
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
                error: Some(error.into()),
            },
        }
    }

    /// Polls the inner future, or yields the refusal, along with the permit
    /// taken out of the future once the call is done.
    #[inline]
    pub(crate) fn poll_with_permit<T, E>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<(Result<T, BoxError>, Option<Permit>)>
    where
        F: Future<Output = Result<T, E>>,
        E: Into<BoxError>,
    {
        match self.project().kind.project() {
            KindProj::Admitted { future, permit } => {
                let output = ready!(future.poll(cx));
                Poll::Ready((output.map_err(Into::into), permit.take()))
            }
            KindProj::Refused { error } => {
                let error = error
                    .take()
                    .expect("ResponseFuture polled after completion");
                Poll::Ready((Err(error), None))
            }
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
        // The permit drops here, as soon as the inner call is done.
        let (output, _permit) = ready!(self.poll_with_permit(cx));
        Poll::Ready(output)
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            Kind::Admitted {
                permit: Some(_), ..
            } => "admitted",
            Kind::Admitted { permit: None, .. } => "done",
            Kind::Refused { error: Some(_) } => "refused",
            Kind::Refused { error: None } => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

#[cfg(feature = "http")]
pub use crate::http_service::HttpResponseFuture;

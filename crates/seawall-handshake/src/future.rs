//! The readiness gate's response future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use seawall_core::future::Refused;
use seawall_core::BoxError;

use crate::drain::InFlight;
use crate::error::NotReady;

pin_project! {
    /// The response future of [`ReadinessGate`](crate::ReadinessGate):
    /// the inner service's future, counted in flight until it completes or
    /// is dropped, or a [`NotReady`] refusal.
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
            in_flight: Option<InFlight>,
        },
        Refused {
            refusal: Refused<NotReady>,
        },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn admitted(future: F, in_flight: InFlight) -> Self {
        ResponseFuture {
            kind: Kind::Admitted {
                future,
                in_flight: Some(in_flight),
            },
        }
    }

    pub(crate) fn refused(refusal: NotReady) -> Self {
        ResponseFuture {
            kind: Kind::Refused {
                refusal: Refused::new(refusal),
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

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Admitted { future, in_flight } => {
                let output = ready!(future.poll(cx));
                // The request is done when its future is, not when the
                // caller gets round to dropping it.
                in_flight.take();
                Poll::Ready(output.map_err(Into::into))
            }
            KindProj::Refused { refusal } => Poll::Ready(Err(refusal.take().into())),
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Admitted { .. } => "admitted",
            Kind::Refused { .. } => "refused",
        };
        f.debug_struct("ResponseFuture")
            .field("kind", &kind)
            .finish()
    }
}

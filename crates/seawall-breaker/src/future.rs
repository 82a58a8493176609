//! The response future of [`CircuitBreaker`](crate::CircuitBreaker).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use seawall_core::{BoxError, Classify};
use tokio::time::Instant;

use crate::error::CircuitOpen;
use crate::permit::{Guard, Local};

pin_project! {
    /// The response of a call through a circuit breaker.
    ///
    /// For an admitted call it waits for the inner future, classifies the
    /// result, records the outcome, and returns the result with the error
    /// boxed (unchanged). For a refused call it fails on its first poll with
    /// [`CircuitOpen`].
    ///
    /// # Cancel safety
    ///
    /// Dropping it before it completes records the call as cancelled, which
    /// counts neither for nor against the upstream, and gives a half-open
    /// probe's slot back for another probe.
    pub struct ResponseFuture<F, C> {
        #[pin]
        kind: Kind<F, C>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, C> {
        Admitted {
            #[pin]
            future: F,
            permit: Option<Guard<Arc<Local>>>,
            classifier: C,
            start: Option<Instant>,
        },
        Refused {
            error: Option<CircuitOpen>,
        },
    }
}

impl<F, C> ResponseFuture<F, C> {
    pub(crate) fn admitted(
        future: F,
        permit: Guard<Arc<Local>>,
        classifier: C,
        start: Option<Instant>,
    ) -> Self {
        ResponseFuture {
            kind: Kind::Admitted {
                future,
                permit: Some(permit),
                classifier,
                start,
            },
        }
    }

    pub(crate) fn refused(error: CircuitOpen) -> Self {
        ResponseFuture {
            kind: Kind::Refused { error: Some(error) },
        }
    }
}

impl<F, C, T, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    C: Classify<T, E>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (future, permit, classifier, start) = match self.project().kind.project() {
            KindProj::Refused { error } => {
                let error = error
                    .take()
                    .expect("ResponseFuture polled after completion");
                return Poll::Ready(Err(error.into()));
            }
            KindProj::Admitted {
                future,
                permit,
                classifier,
                start,
            } => (future, permit, classifier, start),
        };

        let result = ready!(future.poll(cx));

        // Judge the result before the error is boxed, so the classifier
        // sees the inner service's own types.
        if let Some(permit) = permit.take() {
            let retry_after = classifier.retry_after(&result);
            match *start {
                Some(start) => {
                    let end = Instant::now();
                    let elapsed = end.saturating_duration_since(start);
                    let outcome = classifier.classify(&result, elapsed);
                    permit.finish(outcome, elapsed, retry_after, move || end);
                }
                None => {
                    let outcome = classifier.classify(&result, Duration::ZERO);
                    permit.finish(outcome, Duration::ZERO, retry_after, Instant::now);
                }
            }
        }
        Poll::Ready(result.map_err(Into::into))
    }
}

impl<F, C> fmt::Debug for ResponseFuture<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            Kind::Admitted { permit, .. } if permit.is_some() => "admitted",
            Kind::Admitted { .. } => "done",
            Kind::Refused { .. } => "refused",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

//! The response futures of [`CircuitBreaker`](crate::CircuitBreaker) and
//! [`KeyedCircuitBreaker`](crate::KeyedCircuitBreaker).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use seawall_core::future::Refused;
use seawall_core::{BoxError, Classify};
use tokio::time::Instant;

use crate::breaker::Breaker;
use crate::error::CircuitOpen;
use crate::lease::Lease;
use crate::permit::{Guard, Owner};

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
        kind: Kind<F, C, Lease>,
    }
}

pin_project! {
    /// The response of a call through a
    /// [`KeyedCircuitBreaker`](crate::KeyedCircuitBreaker): the same as
    /// [`ResponseFuture`], for the breaker of the request's key.
    ///
    /// # Cancel safety
    ///
    /// Dropping it before it completes records the call as cancelled on
    /// the key's breaker, and gives a half-open probe's slot back.
    pub struct KeyedResponseFuture<F, C> {
        #[pin]
        kind: Kind<F, C, Arc<Breaker>>,
    }
}

pin_project! {
    /// Either future, whoever keeps the breaker alive: a service's lease
    /// (see `lease.rs`), or for a key of a keyed layer the breaker's `Arc`
    /// itself.
    #[project = KindProj]
    enum Kind<F, C, O>
    where
        O: Owner,
    {
        Admitted {
            #[pin]
            future: F,
            permit: Option<Guard<O>>,
            classifier: C,
            start: Option<Instant>,
        },
        Refused {
            error: Refused<CircuitOpen>,
        },
    }
}

impl<F, C> ResponseFuture<F, C> {
    pub(crate) fn admitted(
        future: F,
        permit: Guard<Lease>,
        classifier: C,
        start: Option<Instant>,
    ) -> Self {
        ResponseFuture {
            kind: Kind::admitted(future, permit, classifier, start),
        }
    }

    pub(crate) fn refused(error: CircuitOpen) -> Self {
        ResponseFuture {
            kind: Kind::Refused {
                error: Refused::new(error),
            },
        }
    }
}

impl<F, C> KeyedResponseFuture<F, C> {
    pub(crate) fn admitted(
        future: F,
        permit: Guard<Arc<Breaker>>,
        classifier: C,
        start: Option<Instant>,
    ) -> Self {
        KeyedResponseFuture {
            kind: Kind::admitted(future, permit, classifier, start),
        }
    }

    pub(crate) fn refused(error: CircuitOpen) -> Self {
        KeyedResponseFuture {
            kind: Kind::Refused {
                error: Refused::new(error),
            },
        }
    }
}

impl<F, C, O: Owner> Kind<F, C, O> {
    fn admitted(future: F, permit: Guard<O>, classifier: C, start: Option<Instant>) -> Self {
        Kind::Admitted {
            future,
            permit: Some(permit),
            classifier,
            start,
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

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().kind.poll(cx)
    }
}

impl<F, C, T, E> Future for KeyedResponseFuture<F, C>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    C: Classify<T, E>,
{
    type Output = Result<T, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().kind.poll(cx)
    }
}

impl<F, C, O, T, E> Future for Kind<F, C, O>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    C: Classify<T, E>,
    O: Owner,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (future, permit, classifier, start) = match self.project() {
            KindProj::Refused { error } => return Poll::Ready(Err(error.take().into())),
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

impl<F, C, O: Owner> Kind<F, C, O> {
    fn state(&self) -> &'static str {
        match self {
            Kind::Admitted { permit, .. } if permit.is_some() => "admitted",
            Kind::Admitted { .. } => "done",
            Kind::Refused { error } if error.is_pending() => "refused",
            Kind::Refused { .. } => "done",
        }
    }
}

impl<F, C> fmt::Debug for ResponseFuture<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("state", &self.kind.state())
            .finish()
    }
}

impl<F, C> fmt::Debug for KeyedResponseFuture<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedResponseFuture")
            .field("state", &self.kind.state())
            .finish()
    }
}

use std::fmt;
use std::mem;
use std::sync::Arc;
use std::task::{Context, Poll};

use seawall_core::{BoxError, Classify, DefaultClassifier};
use tokio::time::Instant;
use tower_service::Service;

use crate::breaker::{Breaker, Refusal};
use crate::future::ResponseFuture;
use crate::handle::BreakerHandle;
use crate::permit::{Guard, Local};

/// A service guarded by a circuit breaker.
///
/// Admission is decided in `poll_ready`, before the inner service is
/// touched. An admitted call holds its admission, like a
/// [`Permit`](crate::Permit) (for a half-open probe, one of the few probe
/// slots), from `poll_ready` until its response future ends or is dropped;
/// meanwhile `poll_ready` passes on the inner service's back pressure. A refused call sheds: `poll_ready` is ready at once without
/// polling the inner service, and the future fails with
/// [`CircuitOpen`](crate::error::CircuitOpen) on its first poll. If the
/// inner service's `poll_ready` fails, the admission is released (counted
/// as a cancelled call) and the error is returned as it came, boxed.
///
/// Made by [`CircuitBreakerLayer`](crate::CircuitBreakerLayer); see the
/// crate docs for the whole contract.
pub struct CircuitBreaker<S, C = DefaultClassifier> {
    inner: S,
    local: Arc<Local>,
    classifier: C,
    reserved: Reservation,
}

/// What `poll_ready` decided for the next call.
// FIXME: the admitted guard clones `local` (one locked increment) and the
// response future drops it (one locked decrement): on hosts with slow
// atomics that pair is 17 of the 25 ns the closed path adds, which misses
// the 20 ns target there (docs/benchmarks.md). Safe Rust offers one way to
// skip it: a one-slot thread-local spare that a finished call leaves its
// reference in and the next call on that thread through the same service
// takes from. Not done, because the spare would keep a breaker alive after
// its services are gone, and the health registry would go on reporting it
// (an open, critical ghost can hold an idle instance unready for good).
// Doing it needs the health entry tied to the layer, services and handles
// rather than to the breaker's memory.
#[derive(Debug)]
enum Reservation {
    None,
    Admitted(Guard<Arc<Local>>),
    Refused(Refusal),
}

impl<S> CircuitBreaker<S> {
    /// Guards `inner` with `breaker`, judging results with
    /// [`DefaultClassifier`].
    pub fn new(inner: S, breaker: Arc<Breaker>) -> Self {
        CircuitBreaker::with_classifier(inner, breaker, DefaultClassifier)
    }
}

impl<S, C> CircuitBreaker<S, C> {
    /// Guards `inner` with `breaker`, judging results with `classifier`.
    pub fn with_classifier(inner: S, breaker: Arc<Breaker>, classifier: C) -> Self {
        CircuitBreaker {
            inner,
            local: Arc::new(Local(breaker)),
            classifier,
            reserved: Reservation::None,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes the breaker service and returns the inner one; a
    /// reservation made by `poll_ready` is released.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// An operator handle to the breaker.
    pub fn handle(&self) -> BreakerHandle {
        BreakerHandle::new(self.local.0.clone())
    }
}

impl<S, C, Request> Service<Request> for CircuitBreaker<S, C>
where
    S: Service<Request>,
    S::Error: Into<BoxError>,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // First, ask the breaker, once per call.
        if let Reservation::None = self.reserved {
            self.reserved = match self.local.0.admit() {
                Ok(kind) => Reservation::Admitted(Guard::new(self.local.clone(), kind)),
                Err(refused) => Reservation::Refused(refused),
            };
        }
        if let Reservation::Refused(_) = self.reserved {
            return Poll::Ready(Ok(()));
        }

        // Then wait for the inner service, holding the permit.
        match self.inner.poll_ready(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(error)) => {
                self.reserved = Reservation::None;
                Poll::Ready(Err(error.into()))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match mem::replace(&mut self.reserved, Reservation::None) {
            Reservation::Admitted(permit) => {
                let measure = self.local.0.rules.slow_call_duration.is_some()
                    || Classify::<S::Response, S::Error>::uses_elapsed(&self.classifier);
                let start = measure.then(Instant::now);
                let future = self.inner.call(request);
                ResponseFuture::admitted(future, permit, self.classifier.clone(), start)
            }
            Reservation::Refused(refusal) => {
                ResponseFuture::refused(self.local.0.refusal_error(refusal))
            }
            Reservation::None => panic!(
                "CircuitBreaker::call without a successful poll_ready: \
                 the tower Service contract requires poll_ready to return \
                 Ready(Ok) before each call"
            ),
        }
    }
}

impl<S: Clone, C: Clone> Clone for CircuitBreaker<S, C> {
    /// The clone shares the breaker but not a reservation: it must call
    /// `poll_ready` itself.
    fn clone(&self) -> Self {
        // Clones share the service's own handle to the breaker: cloning
        // (axum clones per request) allocates nothing.
        CircuitBreaker {
            inner: self.inner.clone(),
            local: self.local.clone(),
            classifier: self.classifier.clone(),
            reserved: Reservation::None,
        }
    }
}

impl<S, C> fmt::Debug for CircuitBreaker<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("breaker", &self.local.0)
            .field("reserved", &self.reserved)
            .finish_non_exhaustive()
    }
}

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use seawall_core::{BoxError, Classify, DefaultClassifier};
use tokio::time::Instant;
use tower_service::Service;

use crate::breaker::{Breaker, Refusal};
use crate::future::ResponseFuture;
use crate::handle::BreakerHandle;
use crate::health::Registered;
use crate::lease::Lease;
use crate::permit::Guard;

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
    /// What `poll_ready` decided for the next call, when it admitted it.
    /// Kept apart from a refusal so that the admitted path moves two words
    /// (a tag and the refusal's three words would make `call` reload what
    /// `poll_ready` just stored in halves, which stalls).
    admitted: Option<Guard<Lease>>,
    /// What `poll_ready` decided for the next call, when it refused it.
    refused: Option<Refusal>,
}

/// A service's own handle to its breaker; clones of the service share it,
/// so cloning a service allocates nothing.
struct Local {
    breaker: Arc<Breaker>,
    /// The layer's health entry, kept while the service is.
    registered: Option<Arc<Registered>>,
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
        CircuitBreaker::from_layer(inner, breaker, None, classifier)
    }

    /// A service of a layer, which keeps the layer's health entry.
    pub(crate) fn from_layer(
        inner: S,
        breaker: Arc<Breaker>,
        registered: Option<Arc<Registered>>,
        classifier: C,
    ) -> Self {
        CircuitBreaker {
            inner,
            local: Arc::new(Local {
                breaker,
                registered,
            }),
            classifier,
            admitted: None,
            refused: None,
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
        BreakerHandle::with_entry(self.local.breaker.clone(), self.local.registered.clone())
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

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // First, ask the breaker, once per call.
        if self.admitted.is_none() {
            if self.refused.is_some() {
                return Poll::Ready(Ok(()));
            }
            let breaker = &self.local.breaker;
            match breaker.admit() {
                Ok(kind) => self.admitted = Some(Guard::new(Lease::new(breaker), kind)),
                Err(refused) => {
                    self.refused = Some(refused);
                    return Poll::Ready(Ok(()));
                }
            }
        }

        // Then wait for the inner service, holding the permit.
        match self.inner.poll_ready(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(error)) => {
                self.admitted = None;
                Poll::Ready(Err(error.into()))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    #[inline]
    fn call(&mut self, request: Request) -> Self::Future {
        if let Some(permit) = self.admitted.take() {
            let measure = self.local.breaker.rules.slow_call_duration.is_some()
                || Classify::<S::Response, S::Error>::uses_elapsed(&self.classifier);
            let start = measure.then(Instant::now);
            let future = self.inner.call(request);
            return ResponseFuture::admitted(future, permit, self.classifier.clone(), start);
        }
        match self.refused.take() {
            Some(refusal) => ResponseFuture::refused(self.local.breaker.refusal_error(refusal)),
            None => panic!(
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
            admitted: None,
            refused: None,
        }
    }
}

impl<S, C> fmt::Debug for CircuitBreaker<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("breaker", &self.local.breaker)
            .field("admitted", &self.admitted)
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use seawall_core::{BoxError, Classify};
use tokio::time::Instant;
use tower_service::Service;

use super::handle::KeyedBreakerHandle;
use super::key::KeyExtractor;
use super::map::BreakerMap;
use crate::future::KeyedResponseFuture;
use crate::permit::Guard;

/// A service guarded by one circuit breaker per key.
///
/// `poll_ready` waits for the inner service, passing its back pressure on.
/// The key is known only from the request, so admission is decided in
/// `call`: it finds the key's breaker (adding it, and evicting others if
/// the map is full) and asks it. A refused call sheds: the inner service is
/// not called, and the future fails with
/// [`CircuitOpen`](crate::error::CircuitOpen), named `<name>/<key>`, on its
/// first poll. The inner service stays ready for the next call, holding
/// whatever its readiness reserved.
///
/// An admitted call holds its admission (for a half-open probe, one of the
/// key's probe slots) until its response future ends or is dropped; a
/// dropped future is recorded as cancelled and gives its slot back.
///
/// Made by [`KeyedCircuitBreakerLayer`](crate::KeyedCircuitBreakerLayer).
pub struct KeyedCircuitBreaker<S, K, C> {
    inner: S,
    map: Arc<BreakerMap>,
    extractor: K,
    classifier: C,
    /// Whether `poll_ready` said yes since the last `call`.
    ready: bool,
}

impl<S, K, C> KeyedCircuitBreaker<S, K, C> {
    pub(crate) fn new(inner: S, map: Arc<BreakerMap>, extractor: K, classifier: C) -> Self {
        KeyedCircuitBreaker {
            inner,
            map,
            extractor,
            classifier,
            ready: false,
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

    /// Consumes the service and returns the inner one.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// An operator handle to the breakers.
    pub fn handle(&self) -> KeyedBreakerHandle {
        KeyedBreakerHandle::new(self.map.clone())
    }
}

impl<S, K, C, Request> Service<Request> for KeyedCircuitBreaker<S, K, C>
where
    S: Service<Request>,
    S::Error: Into<BoxError>,
    K: KeyExtractor<Request>,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = KeyedResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match self.inner.poll_ready(cx) {
            Poll::Ready(Ok(())) => {
                self.ready = true;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => {
                self.ready = false;
                Poll::Ready(Err(error.into()))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        assert!(
            std::mem::take(&mut self.ready),
            "KeyedCircuitBreaker::call without a successful poll_ready: \
             the tower Service contract requires poll_ready to return \
             Ready(Ok) before each call"
        );

        // First, find the key's breaker; the key may borrow the request,
        // so it is done with before the request moves on.
        let breaker = self.map.get_or_insert(&self.extractor.key(&request));

        // Then ask it, and call the inner service only if it admits.
        match breaker.admit() {
            Ok(kind) => {
                let measure = breaker.rules.slow_call_duration.is_some()
                    || Classify::<S::Response, S::Error>::uses_elapsed(&self.classifier);
                let start = measure.then(Instant::now);
                let permit = Guard::new(breaker, kind);
                let future = self.inner.call(request);
                KeyedResponseFuture::admitted(future, permit, self.classifier.clone(), start)
            }
            Err(refusal) => KeyedResponseFuture::refused(breaker.refusal_error(refusal)),
        }
    }
}

impl<S: Clone, K: Clone, C: Clone> Clone for KeyedCircuitBreaker<S, K, C> {
    /// The clone shares the breakers but is not ready: it must call
    /// `poll_ready` itself.
    fn clone(&self) -> Self {
        KeyedCircuitBreaker {
            inner: self.inner.clone(),
            map: self.map.clone(),
            extractor: self.extractor.clone(),
            classifier: self.classifier.clone(),
            ready: false,
        }
    }
}

impl<S, K, C> fmt::Debug for KeyedCircuitBreaker<S, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedCircuitBreaker")
            .field("breakers", &self.map)
            .field("ready", &self.ready)
            .finish_non_exhaustive()
    }
}

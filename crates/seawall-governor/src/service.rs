//! The rate limit service without keys: a thin adapter from the tower
//! contract to the limiter.

use std::any::type_name;
use std::fmt;
use std::task::{ready, Context, Poll};

use seawall_core::BoxError;
use tower_service::Service;

use crate::future::ResponseFuture;
use crate::gate::Gate;
use crate::limiter::RateLimiter;

/// Admits requests within its layer's global quotas, shared by every
/// service the [`RateLimitLayer`](crate::RateLimitLayer) builds.
///
/// Admission is decided in `poll_ready`, before the inner service is
/// polled: an admitted service holds its admission until `call`; a
/// refused one is ready at once and its `call` fails without touching the
/// inner service. See the [crate docs](crate) for shedding and waiting.
pub struct RateLimit<S> {
    inner: S,
    gate: Gate,
}

impl<S> RateLimit<S> {
    pub(crate) fn new(inner: S, limiter: RateLimiter) -> Self {
        RateLimit {
            inner,
            gate: Gate::new(limiter),
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service, giving back any admission it held unused.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The limiter this service draws on.
    pub fn limiter(&self) -> &RateLimiter {
        self.gate.limiter()
    }
}

impl<S, Req> Service<Req> for RateLimit<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // First, admission: decided once, then its slot waited for. A
        // refused service is ready, and its call fails.
        if !ready!(self.gate.poll_admission(cx)) {
            return Poll::Ready(Ok(()));
        }

        // Then the inner service. If it fails, the admission is not used.
        match self.inner.poll_ready(cx) {
            Poll::Ready(Err(error)) => {
                self.gate.abandon();
                Poll::Ready(Err(error.into()))
            }
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        match self.gate.take_admission() {
            Ok(()) => ResponseFuture::called(self.inner.call(request)),
            Err(refusal) => ResponseFuture::refused(refusal.into()),
        }
    }
}

impl<S: Clone> Clone for RateLimit<S> {
    /// A clone shares the limiter but starts with no admission: one
    /// reserved by `poll_ready` belongs to the service that reserved it.
    fn clone(&self) -> Self {
        RateLimit {
            inner: self.inner.clone(),
            gate: Gate::new(self.gate.limiter().clone()),
        }
    }
}

impl<S> fmt::Debug for RateLimit<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit")
            .field("inner", &type_name::<S>())
            .field("gate", &self.gate)
            .finish()
    }
}

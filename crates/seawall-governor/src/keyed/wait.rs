//! The keyed service in mode [`Wait`]: an admitted request whose slot is
//! still to come waits in its response future.

use std::hash::Hash;
use std::mem;
use std::task::{Context, Poll};

use seawall_core::names::target;
use seawall_core::BoxError;
use tokio::time::Instant;
use tower_service::Service;

use super::KeyedRateLimit;
use crate::future::WaitingFuture;
use crate::key::KeyExtractor;
use crate::mode::Wait;

impl<S, X, K, Req> Service<Req> for KeyedRateLimit<S, X, K, Wait>
where
    S: Service<Req> + Clone,
    S::Error: Into<BoxError>,
    X: KeyExtractor<Req, Key = K>,
    K: Hash + Eq + Clone + Send + Sync + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = WaitingFuture<S, Req>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.poll_inner(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        self.take_ready();
        let shared = self.limiter.shared();
        let now = Instant::now();
        let at = shared.nanos(now);
        let key = self.extractor.extract(&request);
        let plan = shared.plan(&mut self.rng);
        match shared.admit_request(key.as_ref(), at, &plan) {
            Ok(slot) if slot <= at => WaitingFuture::called(self.inner.call(request)),
            Ok(slot) => {
                // The service made ready for this request goes with it; a
                // clone, to be made ready by the next poll_ready, stays.
                let fresh = self.inner.clone();
                let ready = mem::replace(&mut self.inner, fresh);
                let until = shared.instant(slot);
                tracing::trace!(
                    target: target::GOVERNOR,
                    name = %shared.name,
                    wait = ?until.saturating_duration_since(now),
                    "request waits"
                );
                WaitingFuture::waiting(until, ready, request)
            }
            Err(refusal) => WaitingFuture::refused(refusal),
        }
    }
}

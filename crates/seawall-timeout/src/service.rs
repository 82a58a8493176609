//! The timeout service.

use std::fmt;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use seawall_core::rejection::Phase;
use seawall_core::BoxError;
use tokio::time::Instant;
use tower_service::Service;

use crate::deadline::{DeadlineSource, IgnoreDeadline};
use crate::future::ResponseFuture;
use crate::limit::Limit;
use crate::ready::ReadyTimer;
use crate::shared::Shared;

/// Bounds how long the inner service may take to answer and, if configured,
/// to become ready.
///
/// Built by [`TimeoutLayer`](crate::TimeoutLayer); the crate documentation
/// describes its behaviour in full.
///
/// # Back pressure
///
/// `poll_ready` is `Pending` while the inner service is, so back pressure
/// passes through; with a ready timeout that wait is bounded, and ends with
/// [`Elapsed`](crate::error::Elapsed) in [`Phase::Ready`]. The service is
/// not broken by that error: the next `poll_ready` starts a new wait.
pub struct Timeout<S, D = IgnoreDeadline> {
    inner: S,
    shared: Arc<Shared>,
    deadline: D,
    ready_timer: ReadyTimer,
    // Set by a successful `poll_ready`, taken by `call`.
    is_ready: bool,
}

impl<S, D> Timeout<S, D> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>, deadline: D) -> Self {
        Timeout {
            inner,
            shared,
            deadline,
            ready_timer: ReadyTimer::default(),
            is_ready: false,
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

    /// Consumes the timeout, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, D, Req> Service<Req> for Timeout<S, D>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    D: DeadlineSource<Req>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // First the inner service: while it waits, so does this one.
        if let Poll::Ready(result) = self.inner.poll_ready(cx) {
            self.ready_timer.stop();
            self.is_ready = result.is_ok();
            return Poll::Ready(result.map_err(Into::into));
        }
        self.is_ready = false;

        // Then the bound on that wait, if there is one.
        let Some(ready_timeout) = self.shared.ready_timeout else {
            return Poll::Pending;
        };
        ready!(self.ready_timer.poll_expired(ready_timeout, cx));
        let elapsed = self.shared.elapsed(Limit::own(ready_timeout), Phase::Ready);
        Poll::Ready(Err(elapsed.into()))
    }

    fn call(&mut self, request: Req) -> Self::Future {
        assert!(
            self.is_ready,
            "seawall_timeout::Timeout::call was invoked without a successful \
             poll_ready; the tower Service contract requires poll_ready to \
             return Ready(Ok(())) before each call"
        );
        self.is_ready = false;

        // One clock read serves both the deadline and the response timer.
        let started = Instant::now();
        let deadline = self.deadline.deadline(&request);
        let limit = Limit::for_request(self.shared.timeout, deadline, started);
        let shared = Arc::clone(&self.shared);
        if limit.is_exhausted() {
            return ResponseFuture::exhausted(started, limit, shared);
        }
        ResponseFuture::new(self.inner.call(request), started, limit, shared)
    }
}

impl<S: Clone, D: Clone> Clone for Timeout<S, D> {
    /// A clone starts unreserved and with no wait running: readiness
    /// belongs to the instance that was polled.
    fn clone(&self) -> Self {
        Timeout::new(
            self.inner.clone(),
            Arc::clone(&self.shared),
            self.deadline.clone(),
        )
    }
}

impl<S, D> fmt::Debug for Timeout<S, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("name", &self.shared.name)
            .field("timeout", &self.shared.timeout)
            .field("ready_timeout", &self.shared.ready_timeout)
            .field("deadline", &std::any::type_name::<D>())
            .field("is_ready", &self.is_ready)
            .finish_non_exhaustive()
    }
}

//! The future returned by [`Timeout`](crate::Timeout).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use seawall_core::rejection::Phase;
use seawall_core::BoxError;
use tokio::time::{sleep_until, Instant, Sleep};

use crate::limit::Limit;
use crate::shared::Shared;

pin_project! {
    /// The response of a [`Timeout`](crate::Timeout): the inner service's
    /// response, its error unchanged, or [`Elapsed`](crate::error::Elapsed).
    ///
    /// # Cancel safety
    ///
    /// Dropping it drops the inner future, cancelling the call, and the
    /// timer. Nothing is counted or logged for a dropped future.
    pub struct ResponseFuture<F> {
        // `None` when the request's deadline had passed before the call, so
        // the inner service was never called.
        #[pin]
        inner: Option<F>,
        // Made on the first `Pending` of the inner future only: a service
        // that answers at once never touches the timer wheel.
        #[pin]
        sleep: Option<Sleep>,
        started: Instant,
        limit: Limit,
        shared: Arc<Shared>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, started: Instant, limit: Limit, shared: Arc<Shared>) -> Self {
        ResponseFuture {
            inner: Some(inner),
            sleep: None,
            started,
            limit,
            shared,
        }
    }

    /// A future that fails at once: the deadline left no time to call.
    pub(crate) fn exhausted(started: Instant, limit: Limit, shared: Arc<Shared>) -> Self {
        ResponseFuture {
            inner: None,
            sleep: None,
            started,
            limit,
            shared,
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
        let mut this = self.project();

        // First the response: when it and the limit are both due, the
        // response wins, as it is already here.
        let Some(inner) = this.inner.as_pin_mut() else {
            let elapsed = this.shared.elapsed(*this.limit, Phase::Response);
            return Poll::Ready(Err(elapsed.into()));
        };
        if let Poll::Ready(result) = inner.poll(cx) {
            return Poll::Ready(result.map_err(Into::into));
        }

        // Then the limit, counted from the call and not from this poll, so
        // a future first polled late still keeps to it.
        if this.sleep.is_none() {
            let expires_at = this.limit.expires_at(*this.started);
            this.sleep.set(Some(sleep_until(expires_at)));
        }
        // The timer is always set by now; `if let` only spares an unwrap.
        if let Some(sleep) = this.sleep.as_pin_mut() {
            ready!(sleep.poll(cx));
        }
        let elapsed = this.shared.elapsed(*this.limit, Phase::Response);
        Poll::Ready(Err(elapsed.into()))
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("name", &self.shared.name)
            .field("limit", &self.limit.duration())
            .field("started", &self.started)
            .field("called", &self.inner.is_some())
            .field("timer_started", &self.sleep.is_some())
            .finish_non_exhaustive()
    }
}

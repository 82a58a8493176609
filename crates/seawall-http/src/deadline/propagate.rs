use std::fmt;
use std::task::{Context, Poll};

use http::{HeaderName, HeaderValue, Request};
use seawall_core::names::target;
use seawall_core::Deadline;
use tower_layer::Layer;
use tower_service::Service;

use super::DEFAULT_DEADLINE_HEADER;

/// Applies [`PropagateDeadline`]: the client side of deadline propagation.
///
/// See the [module docs](crate::deadline) for the header's format.
#[derive(Debug, Clone)]
pub struct PropagateDeadlineLayer {
    header: HeaderName,
}

/// Writes the time left of the request's [`Deadline`] into a request header,
/// so that the next hop can stop working once nobody waits for the answer.
pub struct PropagateDeadline<S> {
    inner: S,
    header: HeaderName,
}

impl PropagateDeadlineLayer {
    /// A layer writing [`DEFAULT_DEADLINE_HEADER`].
    pub fn new() -> Self {
        PropagateDeadlineLayer {
            header: DEFAULT_DEADLINE_HEADER,
        }
    }

    /// Writes `header` instead of the default.
    pub fn header(mut self, header: HeaderName) -> Self {
        self.header = header;
        self
    }
}

impl Default for PropagateDeadlineLayer {
    fn default() -> Self {
        PropagateDeadlineLayer::new()
    }
}

impl<S> Layer<S> for PropagateDeadlineLayer {
    type Service = PropagateDeadline<S>;

    fn layer(&self, inner: S) -> PropagateDeadline<S> {
        PropagateDeadline {
            inner,
            header: self.header.clone(),
        }
    }
}

impl<S> PropagateDeadline<S> {
    /// Wraps `inner`, writing [`DEFAULT_DEADLINE_HEADER`].
    pub fn new(inner: S) -> Self {
        PropagateDeadlineLayer::new().layer(inner)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<Request<B>> for PropagateDeadline<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> S::Future {
        // A copy that came in with the request being forwarded is stale by
        // now; only the deadline in the extensions is current.
        let Some(deadline) = request.extensions().get::<Deadline>().copied() else {
            request.headers_mut().remove(&self.header);
            return self.inner.call(request);
        };

        let remaining_ms = u64::try_from(deadline.remaining().as_millis()).unwrap_or(u64::MAX);
        tracing::trace!(
            target: target::HTTP,
            header = self.header.as_str(),
            remaining_ms,
            "deadline written to header"
        );
        // `insert` replaces every value already there.
        request
            .headers_mut()
            .insert(&self.header, HeaderValue::from(remaining_ms));
        self.inner.call(request)
    }
}

impl<S: Clone> Clone for PropagateDeadline<S> {
    fn clone(&self) -> Self {
        PropagateDeadline {
            inner: self.inner.clone(),
            header: self.header.clone(),
        }
    }
}

impl<S> fmt::Debug for PropagateDeadline<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PropagateDeadline")
            .field("inner", &std::any::type_name::<S>())
            .field("header", &self.header)
            .finish()
    }
}

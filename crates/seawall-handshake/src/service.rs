//! The readiness gate service.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use seawall_core::names::target;
use seawall_core::BoxError;
use tower_service::Service;

use crate::drain::{InFlight, Shared};
use crate::error::NotReady;
use crate::future::ResponseFuture;

/// Refuses requests with [`NotReady`] once a drain's notice delay is over,
/// and counts the ones it admits; built by
/// [`ReadinessGateLayer`](crate::ReadinessGateLayer).
///
/// # Sheds
///
/// The gate never applies back pressure of its own: once the drain's
/// notice delay is over, `poll_ready` returns `Ready(Ok(()))` without
/// polling the inner service, and the next `call` fails at once with
/// [`NotReady`]. Before that (and during the notice delay, while the load
/// balancer has not yet seen the failing readiness probe), `poll_ready`
/// counts the request in flight and then waits for the inner service's
/// readiness.
///
/// # Cancel safety
///
/// An admitted request stays counted in flight until its response future
/// completes or is dropped, and a service dropped between `poll_ready` and
/// `call` gives its count back, so a drain never waits for work that is
/// gone.
pub struct ReadinessGate<S> {
    inner: S,
    shared: Arc<Shared>,
    retry_after: Duration,
    admission: Option<Admission>,
}

enum Admission {
    Admitted(InFlight),
    Refused,
}

impl<S> ReadinessGate<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>, retry_after: Duration) -> Self {
        ReadinessGate {
            inner,
            shared,
            retry_after,
            admission: None,
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

    /// Consumes the gate, returning the inner service. A reservation made by
    /// `poll_ready` is given back.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Request> Service<Request> for ReadinessGate<S>
where
    S: Service<Request>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // First, decide admission, once per call.
        let admission = self
            .admission
            .get_or_insert_with(|| match self.shared.admit() {
                Some(in_flight) => Admission::Admitted(in_flight),
                None => Admission::Refused,
            });

        // Then, only an admitted request waits for the inner service.
        match admission {
            Admission::Refused => Poll::Ready(Ok(())),
            Admission::Admitted(_) => self.inner.poll_ready(cx).map_err(Into::into),
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let admission = self
            .admission
            .take()
            .expect("ReadinessGate::call without poll_ready: the tower Service contract requires poll_ready to return Ready(Ok(())) first");
        match admission {
            Admission::Admitted(in_flight) => {
                ResponseFuture::admitted(self.inner.call(request), in_flight)
            }
            Admission::Refused => {
                self.shared.record_refusal();
                tracing::trace!(
                    target: target::HANDSHAKE,
                    retry_after = ?self.retry_after,
                    "request refused while draining"
                );
                let refusal = NotReady::new(self.retry_after).with_draining(true);
                ResponseFuture::refused(refusal)
            }
        }
    }
}

impl<S: Clone> Clone for ReadinessGate<S> {
    fn clone(&self) -> Self {
        // A clone starts unreserved: the admission belongs to this service.
        ReadinessGate::new(self.inner.clone(), self.shared.clone(), self.retry_after)
    }
}

impl<S> fmt::Debug for ReadinessGate<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let admission = match self.admission {
            None => "none",
            Some(Admission::Admitted(_)) => "admitted",
            Some(Admission::Refused) => "refused",
        };
        f.debug_struct("ReadinessGate")
            .field("draining", &self.shared.is_draining())
            .field("retry_after", &self.retry_after)
            .field("admission", &admission)
            .finish()
    }
}

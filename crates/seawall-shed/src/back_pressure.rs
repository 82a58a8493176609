//! The back-pressure service.

use std::any::type_name;
use std::fmt;
use std::task::{ready, Context, Poll};

use seawall_core::{BoxError, Classify, DefaultClassifier};
use tower_service::Service;

use crate::future::BackPressureFuture;
use crate::layer::ShedHandle;
use crate::lease::Anchor;
use crate::slot::{Slot, Ticket, Waited};

/// Admits calls up to the learned concurrency limit, across every service
/// its [`BackPressureLayer`](crate::BackPressureLayer) builds, and makes
/// the rest wait: `poll_ready` returns `Pending` until a slot frees.
///
/// The wait has no bound of its own: a caller that must not wait forever
/// bounds it from outside (seawall-timeout's `Timeout` bounds the wait for
/// readiness too). Waiting services are served in the order they began to
/// wait and are woken by the release of a slot itself, with no timer.
///
/// A slot is reserved by `poll_ready` and consumed by the next `call`; a
/// service dropped with a reservation, or while waiting, gives it back.
/// Clones start unreserved. See the [crate docs](crate).
pub struct BackPressure<S, C = DefaultClassifier> {
    inner: S,
    shared: Anchor,
    classifier: C,
    reserved: Reserved,
}

#[derive(Debug)]
enum Reserved {
    /// Nothing yet; `call` is not allowed.
    None,
    /// In line for a slot.
    Waiting(Ticket),
    /// A slot, held while the inner service becomes ready.
    Slot(Slot),
}

impl<S, C> BackPressure<S, C> {
    pub(crate) fn from_parts(inner: S, shared: Anchor, classifier: C) -> Self {
        BackPressure {
            inner,
            shared,
            classifier,
            reserved: Reserved::None,
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

    /// Unwraps the service, giving back any slot it had reserved or was
    /// waiting for.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// A handle to read and steer the limiter.
    pub fn handle(&self) -> ShedHandle {
        ShedHandle::new(self.shared.clone())
    }

    /// Takes a slot, or waits in line for one.
    fn poll_slot(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match &mut self.reserved {
                Reserved::Slot(_) => return Poll::Ready(()),
                Reserved::None => {
                    self.reserved = match self.shared.admit() {
                        Some(slot) => Reserved::Slot(slot),
                        None => Reserved::Waiting(self.shared.wait()),
                    };
                }
                Reserved::Waiting(ticket) => {
                    self.reserved = match ready!(ticket.poll(cx)) {
                        Waited::Granted(slot) => Reserved::Slot(slot),
                        // A waiter without a deadline never expires; were it
                        // to, it would simply try again.
                        Waited::Expired => Reserved::None,
                    };
                }
            }
        }
    }
}

impl<S, C, Req> Service<Req> for BackPressure<S, C>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    C: Classify<S::Response, BoxError> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BackPressureFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // First, a slot; then the inner service, holding it.
        ready!(self.poll_slot(cx));
        match self.inner.poll_ready(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(error)) => {
                self.reserved = Reserved::None;
                Poll::Ready(Err(error.into()))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let Reserved::Slot(slot) = std::mem::replace(&mut self.reserved, Reserved::None) else {
            panic!(
                "back-pressure service called before poll_ready returned Ready(Ok(())); \
                 the tower Service contract requires a successful poll_ready \
                 before each call"
            )
        };
        if slot.over_limit() {
            self.shared.shadow_refuse();
        }
        let timed = slot.timed(self.classifier.uses_elapsed());
        let future = self.inner.call(request);
        BackPressureFuture::admitted(future, slot, self.classifier.clone(), timed)
    }
}

impl<S: Clone, C: Clone> Clone for BackPressure<S, C> {
    /// A clone shares the limiter but starts unreserved and out of line.
    fn clone(&self) -> Self {
        BackPressure {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
            classifier: self.classifier.clone(),
            reserved: Reserved::None,
        }
    }
}

impl<S, C> fmt::Debug for BackPressure<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackPressure")
            .field("inner", &type_name::<S>())
            .field("shed", &self.shared)
            .field("reserved", &self.reserved)
            .finish()
    }
}

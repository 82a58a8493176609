//! The shedding service.

use std::any::type_name;
use std::fmt;
use std::task::{Context, Poll};

use seawall_core::{BoxError, Classify, DefaultClassifier};
use tokio::time::Instant;
use tower_service::Service;

use crate::deadline::{DeadlineSource, IgnoreDeadline};
use crate::future::ResponseFuture;
use crate::layer::ShedHandle;
use crate::lease::Anchor;
use crate::shared::Reason;
use crate::slot::Slot;

/// Admits calls up to the shedder's learned concurrency limit, across every
/// service its [`ShedLayer`](crate::ShedLayer) builds, and sheds the rest.
///
/// It is always ready: a call over the limit gets a future that fails at
/// once with [`Overloaded`](crate::Overloaded) or, with a queue, waits in
/// line for a slot. A slot is reserved by `poll_ready`, which then passes
/// on the inner service's own readiness, and held until the response
/// future completes or is dropped. See the [crate docs](crate).
///
/// The inner service must be `Clone`: a queued request runs on a clone,
/// made when it joins the line and polled for readiness once it has a slot.
pub struct Shed<S, D = IgnoreDeadline, C = DefaultClassifier> {
    inner: S,
    shared: Anchor,
    deadline: D,
    classifier: C,
    reserved: Reserved,
}

/// What `poll_ready` decided for the next call.
#[derive(Debug)]
enum Reserved {
    /// Nothing yet; `call` is not allowed.
    None,
    /// A slot, held while the inner service becomes ready.
    Slot(Slot),
    /// No slot: the call queues or is refused.
    Overflow,
}

impl<S, D, C> Shed<S, D, C> {
    pub(crate) fn from_parts(inner: S, shared: Anchor, deadline: D, classifier: C) -> Self {
        Shed {
            inner,
            shared,
            deadline,
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

    /// Unwraps the service, giving back any slot it had reserved.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// A handle to read and steer the shedder.
    pub fn handle(&self) -> ShedHandle {
        ShedHandle::new(self.shared.clone())
    }
}

impl<S, D, C, Req> Service<Req> for Shed<S, D, C>
where
    S: Service<Req> + Clone,
    S::Error: Into<BoxError>,
    D: DeadlineSource<Req>,
    C: Classify<S::Response, BoxError> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, S, Req, C>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // First, admission, once per call; without a slot the inner
        // service is not touched.
        if let Reserved::None = self.reserved {
            self.reserved = match self.shared.admit() {
                Some(slot) => Reserved::Slot(slot),
                None => Reserved::Overflow,
            };
        }
        if let Reserved::Overflow = self.reserved {
            return Poll::Ready(Ok(()));
        }

        // Then the inner service, holding the slot. A service whose
        // readiness failed may never be called again, so its slot goes
        // back now, without a sample.
        match self.inner.poll_ready(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(error)) => {
                self.reserved = Reserved::None;
                Poll::Ready(Err(error.into()))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        match std::mem::replace(&mut self.reserved, Reserved::None) {
            Reserved::Slot(slot) => {
                if slot.over_limit() {
                    self.shared.shadow_refuse();
                }
                let timed = slot.timed(self.classifier.uses_elapsed());
                let future = self.inner.call(request);
                ResponseFuture::admitted(future, slot, self.classifier.clone(), timed)
            }
            Reserved::Overflow => self.overflow(request),
            Reserved::None => panic!(
                "shed service called before poll_ready returned Ready(Ok(())); \
                 the tower Service contract requires a successful poll_ready \
                 before each call"
            ),
        }
    }
}

impl<S, D, C> Shed<S, D, C> {
    /// Queues a call that found no slot, or refuses it.
    #[cold]
    fn overflow<Req>(&mut self, request: Req) -> ResponseFuture<S::Future, S, Req, C>
    where
        S: Service<Req> + Clone,
        D: DeadlineSource<Req>,
        C: Clone,
    {
        let Some(bounds) = self.shared.queue else {
            return ResponseFuture::refused(self.shared.refuse(Reason::Limit, None).into());
        };

        // The request waits at most the queue's bound, and never past its
        // own deadline: once that passes nobody wants the answer.
        let now = Instant::now();
        let mut deadline = now + bounds.max_wait;
        if let Some(own) = self.deadline.deadline(&request) {
            deadline = deadline.min(own.instant());
        }
        if deadline <= now {
            let refusal = self.shared.refuse(Reason::Expired, None);
            return ResponseFuture::refused(refusal.into());
        }
        match self.shared.enqueue(deadline) {
            Some(ticket) => ResponseFuture::queued(
                ticket,
                deadline,
                self.inner.clone(),
                request,
                self.classifier.clone(),
            ),
            None => ResponseFuture::refused(self.shared.refuse(Reason::QueueFull, None).into()),
        }
    }
}

impl<S: Clone, D: Clone, C: Clone> Clone for Shed<S, D, C> {
    /// A clone shares the shedder but starts unreserved: a slot reserved by
    /// `poll_ready` belongs to the service that reserved it.
    fn clone(&self) -> Self {
        Shed {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
            deadline: self.deadline.clone(),
            classifier: self.classifier.clone(),
            reserved: Reserved::None,
        }
    }
}

impl<S, D, C> fmt::Debug for Shed<S, D, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shed")
            .field("inner", &type_name::<S>())
            .field("shed", &self.shared)
            .field("reserved", &self.reserved)
            .finish()
    }
}

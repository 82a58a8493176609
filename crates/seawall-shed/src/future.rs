//! Response futures.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use seawall_core::future::Refused;
use seawall_core::{BoxError, Classify, FailureKind, Outcome};
use tokio::time::{Instant, Sleep};
use tower_service::Service;

use crate::shared::Reason;
use crate::slot::{Slot, Ticket, Waited};

pin_project! {
    /// The future of a [`Shed`](crate::Shed) call: the inner service's
    /// future holding a slot, a request waiting in the queue, or a refusal.
    ///
    /// When the inner call finishes, its result is classified and its
    /// latency recorded as a sample for the limit algorithm, and the slot is
    /// freed. Dropping the future frees the slot, or leaves the queue, and
    /// records nothing.
    pub struct ResponseFuture<F, S, Req, C> {
        #[pin]
        kind: Kind<F, S, Req, C>,
    }
}

pin_project! {
    /// The future of a [`BackPressure`](crate::BackPressure) call: the inner
    /// service's future holding the slot its `poll_ready` waited for.
    ///
    /// Recording and cancellation work as for [`ResponseFuture`].
    pub struct BackPressureFuture<F, C> {
        #[pin]
        call: Admitted<F, C>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, S, Req, C> {
        Admitted {
            #[pin]
            call: Admitted<F, C>,
        },
        Queued {
            queued: Pin<Box<Queued<S, Req>>>,
            classifier: Option<C>,
        },
        Refused {
            // Boxed already: the future stays small for admitted calls.
            error: Refused<BoxError>,
        },
    }
}

pin_project! {
    /// A call under way, holding its slot.
    struct Admitted<F, C> {
        #[pin]
        future: F,
        slot: Option<Slot>,
        classifier: C,
        // When the call started; `None` when nobody needs its latency.
        start: Option<Instant>,
    }
}

pin_project! {
    /// A request in the queue, with what it needs to run once it gets a
    /// slot: a clone of the inner service, and its own timer for its
    /// deadline.
    struct Queued<S, Req> {
        #[pin]
        sleep: Sleep,
        ticket: Ticket,
        slot: Option<Slot>,
        service: S,
        request: Option<Req>,
    }
}

impl<F, S, Req, C> ResponseFuture<F, S, Req, C> {
    /// A call that got a slot; `timed` says whether its latency is needed
    /// (see [`Slot::timed`]).
    #[inline]
    pub(crate) fn admitted(future: F, slot: Slot, classifier: C, timed: bool) -> Self {
        ResponseFuture {
            kind: Kind::Admitted {
                call: Admitted::new(future, slot, classifier, timed),
            },
        }
    }

    pub(crate) fn queued(
        ticket: Ticket,
        deadline: Instant,
        service: S,
        request: Req,
        classifier: C,
    ) -> Self {
        let queued = Queued {
            sleep: tokio::time::sleep_until(deadline),
            ticket,
            slot: None,
            service,
            request: Some(request),
        };
        ResponseFuture {
            kind: Kind::Queued {
                queued: Box::pin(queued),
                classifier: Some(classifier),
            },
        }
    }

    #[cold]
    pub(crate) fn refused(error: BoxError) -> Self {
        ResponseFuture {
            kind: Kind::Refused {
                error: Refused::new(error),
            },
        }
    }
}

impl<F, C> BackPressureFuture<F, C> {
    #[inline]
    pub(crate) fn admitted(future: F, slot: Slot, classifier: C, timed: bool) -> Self {
        BackPressureFuture {
            call: Admitted::new(future, slot, classifier, timed),
        }
    }
}

impl<F, S, Req, C, T, E> Future for ResponseFuture<F, S, Req, C>
where
    S: Service<Req, Future = F, Response = T, Error = E>,
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    C: Classify<T, BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project().kind.project() {
                KindProj::Admitted { call } => return call.poll(cx),
                KindProj::Refused { error } => return Poll::Ready(Err(error.take())),
                KindProj::Queued { queued, classifier } => {
                    let (future, slot) = match ready!(queued.as_mut().poll_start(cx)) {
                        Ok(started) => started,
                        Err(error) => {
                            self.set(ResponseFuture::refused(error));
                            continue;
                        }
                    };
                    let classifier = classifier.take().expect("a queued call starts only once");
                    let timed = slot.timed(classifier.uses_elapsed());
                    self.set(ResponseFuture::admitted(future, slot, classifier, timed));
                }
            }
        }
    }
}

impl<F, C, T, E> Future for BackPressureFuture<F, C>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    C: Classify<T, BoxError>,
{
    type Output = Result<T, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().call.poll(cx)
    }
}

impl<F, C> Admitted<F, C> {
    fn new(future: F, slot: Slot, classifier: C, timed: bool) -> Self {
        Admitted {
            future,
            slot: Some(slot),
            classifier,
            start: timed.then(Instant::now),
        }
    }

    fn poll<T, E>(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, BoxError>>
    where
        F: Future<Output = Result<T, E>>,
        E: Into<BoxError>,
        C: Classify<T, BoxError>,
    {
        let this = self.project();
        let result = ready!(this.future.poll(cx)).map_err(Into::into);
        if let Some(slot) = this.slot.take() {
            let latency = this.start.map_or(Duration::ZERO, |start| start.elapsed());
            record(slot, this.classifier.classify(&result, latency), latency);
        }
        Poll::Ready(result)
    }
}

/// Turns an outcome into a sample: timeouts and an upstream's refusals are
/// losses; cancelled and ignored calls (another layer's local refusal) say
/// nothing about the service's latency and are not recorded.
fn record(slot: Slot, outcome: Outcome, latency: Duration) {
    match outcome {
        Outcome::Failure(FailureKind::Timeout | FailureKind::Rejected) => {
            slot.record(latency, true)
        }
        Outcome::Success | Outcome::Failure(_) => slot.record(latency, false),
        // Dropping the slot frees it without a sample.
        _ => drop(slot),
    }
}

impl<S, Req> Queued<S, Req> {
    /// Waits for a slot, then for the inner service, and calls it; fails
    /// once the deadline passes while waiting in line.
    fn poll_start<E>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(S::Future, Slot), BoxError>>
    where
        S: Service<Req, Error = E>,
        E: Into<BoxError>,
    {
        let mut this = self.project();

        // First, a slot: granted in the queue's order, or the deadline.
        if this.slot.is_none() {
            let deadline_passed = this.sleep.as_mut().poll(cx).is_ready();
            let slot = if deadline_passed {
                // A slot granted in the same instant goes back unused: the
                // request is dropped without running.
                this.ticket.cancel();
                None
            } else {
                match ready!(this.ticket.poll(cx)) {
                    Waited::Granted(slot) => Some(slot),
                    Waited::Expired => None,
                }
            };
            let Some(slot) = slot else {
                let waited = this.ticket.since().elapsed();
                let shared = this.ticket.shared();
                return Poll::Ready(Err(shared.refuse(Reason::Expired, Some(waited)).into()));
            };
            *this.slot = Some(slot);
        }

        // Then the inner service, holding the slot. A readiness error
        // frees the slot without a sample.
        if let Err(error) = ready!(this.service.poll_ready(cx)) {
            *this.slot = None;
            return Poll::Ready(Err(error.into()));
        }
        let request = this
            .request
            .take()
            .expect("a queued request is called only once");
        let slot = this.slot.take().expect("the slot was taken above");
        if slot.over_limit() {
            slot.shared().shadow_refuse();
        }
        Poll::Ready(Ok((this.service.call(request), slot)))
    }
}

impl<F, S, Req, C> fmt::Debug for ResponseFuture<F, S, Req, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            Kind::Admitted { call } if call.slot.is_some() => "admitted",
            Kind::Queued { queued, .. } if queued.slot.is_some() => "starting",
            Kind::Queued { .. } => "queued",
            Kind::Refused { error } if error.is_pending() => "refused",
            Kind::Admitted { .. } | Kind::Refused { .. } => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

impl<F, C> fmt::Debug for BackPressureFuture<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.call.slot.is_some() {
            "admitted"
        } else {
            "done"
        };
        f.debug_struct("BackPressureFuture")
            .field("state", &state)
            .finish()
    }
}

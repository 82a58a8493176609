//! What a call holds: a slot under the limit, or a place in the line for
//! one.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use crate::lease::Lease;
use crate::limit::Sample;
use crate::queue::State;
use crate::shared::Shared;

/// A slot under the limit, held by one call; dropping it gives it back.
///
/// It keeps the shedder alive, so it may outlive every service.
///
/// Two words: the calls in flight and the shadow-mode mark share one, so
/// that the slot, and the enums and options that carry it, move as whole
/// aligned words. A `bool` beside the count made the compiler copy the
/// padding after it with odd-sized loads that missed store forwarding,
/// which cost the fixed-limit hot path about a third of its time
/// (`docs/benchmarks.md`).
pub(crate) struct Slot {
    lease: Lease,
    /// The calls in flight with this one; the top bit marks a slot taken
    /// over the limit.
    grant: usize,
}

/// The top bit of [`Slot::grant`]: far above any count of calls in flight.
const OVER_LIMIT: usize = 1 << (usize::BITS - 1);

/// A waiter's place in line; dropping it leaves the line and gives back a
/// slot granted meanwhile.
pub(crate) struct Ticket {
    pub(crate) shared: Arc<Shared>,
    pub(crate) key: Option<usize>,
    pub(crate) since: Instant,
}

/// What became of a waiter.
#[derive(Debug)]
pub(crate) enum Waited {
    /// It got a slot.
    Granted(Slot),
    /// Its deadline passed first.
    Expired,
}

impl Slot {
    /// A slot held through `lease`, `in_flight` with it, taken `over_limit`
    /// in shadow mode.
    #[inline]
    pub(crate) fn new(lease: Lease, in_flight: usize, over_limit: bool) -> Self {
        debug_assert!(in_flight < OVER_LIMIT, "in-flight count out of range");
        let mark = if over_limit { OVER_LIMIT } else { 0 };
        Slot {
            lease,
            grant: (in_flight & !OVER_LIMIT) | mark,
        }
    }

    /// The calls in flight when this slot was taken, this one included.
    #[inline]
    pub(crate) fn in_flight(&self) -> usize {
        self.grant & !OVER_LIMIT
    }

    /// Records the call this slot covered, `latency` long, and frees the
    /// slot. A `dropped` call counts as a loss.
    pub(crate) fn record(self, latency: Duration, dropped: bool) {
        let shared = &self.lease;
        if !shared.limiter.learns() {
            return;
        }
        shared.record(&Sample {
            latency,
            in_flight: self.in_flight(),
            dropped,
        });
    }

    /// Whether the call this slot covers must be timed: for the algorithm,
    /// or for a classifier that reads the elapsed time.
    #[inline]
    pub(crate) fn timed(&self, classifier_uses_elapsed: bool) -> bool {
        classifier_uses_elapsed || self.lease.limiter.learns()
    }

    /// Whether the slot was taken over the limit, in shadow mode.
    pub(crate) fn over_limit(&self) -> bool {
        self.grant & OVER_LIMIT != 0
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.lease
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let shared = &self.lease;
        shared.limiter.release();
        shared.metrics.in_flight.decrement(1.0);
        shared.wake_waiters();
        // The lease drops after this, back to the thread's spare.
    }
}

impl Ticket {
    /// Whether the waiter got a slot or expired; registers `cx` to be
    /// woken while it waits.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Waited> {
        let Some(key) = self.key else {
            return Poll::Ready(Waited::Expired);
        };
        let state = {
            let mut queue = self.shared.lock();
            let state = match queue.poll(key, cx.waker()) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(state) => state,
            };
            queue.remove(key);
            state
        };
        self.key = None;
        Poll::Ready(self.settled(state))
    }

    /// Leaves the line; returns the slot if one was granted meanwhile.
    pub(crate) fn cancel(&mut self) -> Option<Slot> {
        let key = self.key.take()?;
        let state = {
            let mut queue = self.shared.lock();
            let state = queue.remove(key);
            self.shared.publish_len(&queue);
            state
        };
        match self.settled(state) {
            Waited::Granted(slot) => Some(slot),
            Waited::Expired => None,
        }
    }

    /// When the waiter joined the line.
    pub(crate) fn since(&self) -> Instant {
        self.since
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn settled(&self, state: State) -> Waited {
        match state {
            // The gauge was raised when the slot was granted.
            State::Granted(grant) => Waited::Granted(Slot::new(
                Lease::new(&self.shared),
                grant.in_flight,
                grant.over_limit,
            )),
            State::Expired | State::Waiting | State::Free => Waited::Expired,
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        // A slot granted to a waiter that is gone goes on to the next one.
        drop(self.cancel());
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("in_flight", &self.in_flight())
            .field("over_limit", &self.over_limit())
            .finish()
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket")
            .field("key", &self.key)
            .field("since", &self.since)
            .finish()
    }
}

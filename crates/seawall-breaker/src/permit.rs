//! The right to make one call, and the duty to say how it went.

use std::fmt;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use seawall_core::Outcome;
use tokio::time::Instant;

use crate::breaker::{Breaker, Clock};
use crate::state::Word;

/// One admitted call.
///
/// Record its outcome with [`record`](Permit::record). Dropping a permit
/// without recording counts the call as cancelled: it is neither a success
/// nor a failure, and a half-open probe gives its slot back for another
/// probe.
#[must_use = "a permit counts as cancelled unless its outcome is recorded"]
pub struct Permit {
    guard: Guard<Arc<Breaker>>,
}

/// What an admission decided, before it is tied to an owner.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// A call through a closed or metrics-only breaker, admitted under this
    /// word.
    Call(Word),
    /// A probe of the half-open period of this generation.
    Probe(u64),
    /// A call through a disabled breaker: nothing is recorded.
    Free,
}

/// Whatever keeps the breaker alive while a call is in flight.
///
/// A [`Permit`] and a keyed layer's call hold the breaker's own `Arc`; a
/// service's call holds a [`Lease`](crate::lease::Lease), which reuses its
/// thread's spare reference when it can.
pub(crate) trait Owner {
    fn breaker(&self) -> &Breaker;
}

/// An admitted call, whoever owns the breaker; `Permit` and the service's
/// reservation are both this.
pub(crate) struct Guard<O: Owner> {
    owner: O,
    /// The [`Kind`], packed into one word so that a guard moves as two
    /// registers: the kind in the top two bits, its word or generation
    /// below. A generation needs 59 bits before it reaches them. Never
    /// zero, so that an `Option` of a guard is two words too.
    ticket: NonZeroU64,
}

const KIND_SHIFT: u32 = 62;
const VALUE_MASK: u64 = (1 << KIND_SHIFT) - 1;
const CALL: u64 = 1;
const PROBE: u64 = 2;
const FREE: u64 = 3;
/// The outcome was recorded, and nothing is left to do on drop: any
/// ticket whose kind bits are zero.
const DONE: NonZeroU64 = NonZeroU64::MIN;

impl Permit {
    #[inline]
    pub(crate) fn new(breaker: Arc<Breaker>, kind: Kind) -> Self {
        Permit {
            guard: Guard::new(breaker, kind),
        }
    }

    /// Returns `true` when this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.guard.is_probe()
    }

    /// The breaker that admitted the call.
    pub fn breaker(&self) -> &Arc<Breaker> {
        &self.guard.owner
    }

    /// Records the call's outcome; `elapsed` is how long it took (it
    /// matters only with a slow-call threshold). Reads tokio's clock only if
    /// the breaker needs the time (a time window, a half-open verdict).
    #[inline]
    pub fn record(self, outcome: Outcome, elapsed: Duration) {
        self.guard.finish(outcome, elapsed, None, Instant::now);
    }

    /// Records the call's outcome as of `now`.
    pub fn record_at(self, outcome: Outcome, elapsed: Duration, now: Instant) {
        self.guard.finish(outcome, elapsed, None, move || now);
    }
}

impl<O: Owner> Guard<O> {
    #[inline]
    pub(crate) fn new(owner: O, kind: Kind) -> Self {
        let ticket = match kind {
            Kind::Call(word) => (CALL << KIND_SHIFT) | (word.0 & VALUE_MASK),
            Kind::Probe(generation) => (PROBE << KIND_SHIFT) | (generation & VALUE_MASK),
            Kind::Free => FREE << KIND_SHIFT,
        };
        // Every kind has a bit set in the top two.
        let ticket = NonZeroU64::new(ticket).unwrap_or(DONE);
        Guard { owner, ticket }
    }

    fn is_probe(&self) -> bool {
        matches!(self.kind(), Some(Kind::Probe(_)))
    }

    /// Records the outcome, then applies an upstream's `Retry-After`.
    #[inline]
    pub(crate) fn finish<F>(
        mut self,
        outcome: Outcome,
        elapsed: Duration,
        retry_after: Option<Duration>,
        read: F,
    ) where
        F: FnOnce() -> Instant,
    {
        let kind = self.kind();
        self.ticket = DONE;
        let breaker = self.owner.breaker();
        let mut clock = Clock::new(read);
        match kind {
            None | Some(Kind::Free) => {}
            Some(Kind::Call(word)) => {
                breaker.telemetry.call(outcome);
                breaker.record_call(word, outcome, elapsed, &mut clock);
            }
            Some(Kind::Probe(generation)) => {
                breaker.telemetry.call(outcome);
                breaker.record_probe(generation, outcome, elapsed, &mut clock);
            }
        }
        if let Some(retry_after) = retry_after {
            breaker.hold_open_nanos(retry_after, clock.nanos(breaker.start));
        }
    }

    /// The kind of call, `None` once its outcome is recorded.
    #[inline]
    fn kind(&self) -> Option<Kind> {
        let ticket = self.ticket.get();
        let value = ticket & VALUE_MASK;
        match ticket >> KIND_SHIFT {
            CALL => Some(Kind::Call(Word(value))),
            PROBE => Some(Kind::Probe(value)),
            FREE => Some(Kind::Free),
            _ => None,
        }
    }

    #[cold]
    fn cancel(&self) {
        let breaker = self.owner.breaker();
        match self.kind() {
            Some(Kind::Call(_)) => breaker.telemetry.call(Outcome::Cancelled),
            Some(Kind::Probe(generation)) => {
                breaker.telemetry.call(Outcome::Cancelled);
                breaker.probes.give_back(generation);
            }
            Some(Kind::Free) | None => {}
        }
    }
}

impl<O: Owner> Drop for Guard<O> {
    #[inline]
    fn drop(&mut self) {
        if self.ticket.get() >> KIND_SHIFT != 0 {
            self.cancel();
        }
    }
}

impl Owner for Arc<Breaker> {
    #[inline]
    fn breaker(&self) -> &Breaker {
        self
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("breaker", &self.guard.owner.name())
            .field("probe", &self.is_probe())
            .finish()
    }
}

impl<O: Owner> fmt::Debug for Guard<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("breaker", &self.owner.breaker().name())
            .field("kind", &self.kind())
            .finish()
    }
}

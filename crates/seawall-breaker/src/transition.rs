//! Transitions: the rare path, serialised by the breaker's lock.
//!
//! Every transition is made from one exact state word to the next: the
//! caller says which word it saw, and the transition happens only if the
//! word is still the same under the lock. Two callers that see the same
//! reason to trip therefore trip once, and a caller that saw an old word
//! changes nothing. What a state needs besides its word (the end of the open
//! period, the half-open deadline, fresh probe slots, an empty window) is
//! written before the word is published with `Release`, so a reader that
//! loads the word with `Acquire` finds them in place.

use std::time::Duration;

use seawall_core::names::target;
use tokio::time::Instant;

use crate::breaker::{Breaker, Control};
use crate::state::{BreakerState, Word};
use crate::sync::Ordering;

/// Why a transition happened; the `cause` field of its log event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    FailureRate,
    SlowRate,
    ConsecutiveFailures,
    ProbesSucceeded,
    ProbesFailed,
    HalfOpenTimeout,
    OpenElapsed,
    RetryAfter,
    Operator,
}

/// A finished transition, logged once the lock is released.
#[derive(Debug)]
struct Change {
    from: BreakerState,
    to: BreakerState,
    cause: Cause,
    failure_rate: f64,
    slow_rate: f64,
    retry_after: Duration,
}

impl Cause {
    fn as_str(self) -> &'static str {
        match self {
            Cause::FailureRate => "failure_rate",
            Cause::SlowRate => "slow_rate",
            Cause::ConsecutiveFailures => "consecutive_failures",
            Cause::ProbesSucceeded => "probes_succeeded",
            Cause::ProbesFailed => "probes_failed",
            Cause::HalfOpenTimeout => "half_open_timeout",
            Cause::OpenElapsed => "open_elapsed",
            Cause::RetryAfter => "retry_after",
            Cause::Operator => "operator",
        }
    }

    /// Whether the breaker opens by its own judgement, which is what grows
    /// the backoff.
    fn is_trip(self) -> bool {
        matches!(
            self,
            Cause::FailureRate
                | Cause::SlowRate
                | Cause::ConsecutiveFailures
                | Cause::ProbesFailed
                | Cause::HalfOpenTimeout
        )
    }
}

impl Breaker {
    /// Moves from `from` to `to`, if `from` is still the current word.
    pub(crate) fn transition(&self, from: Word, to: BreakerState, cause: Cause, now: u64) -> bool {
        let mut control = self.lock();
        if Word(self.state.load(Ordering::Relaxed)) != from {
            return false;
        }
        let change = self.apply(&mut control, from, to, cause, now, None);
        drop(control);
        self.announce(&change);
        true
    }

    pub(crate) fn hold_open_nanos(&self, retry_after: Duration, now: u64) {
        let hold = retry_after.min(self.rules.max_retry_after);
        if hold.is_zero() {
            return;
        }
        let until = now.saturating_add(nanos(hold));
        let mut control = self.lock();
        let from = Word(self.state.load(Ordering::Relaxed));
        let later = until > self.open_until.load(Ordering::Relaxed);
        let applies = match from.state() {
            BreakerState::Closed | BreakerState::HalfOpen => true,
            BreakerState::Open => later,
            _ => false,
        };
        if !applies {
            return;
        }
        let until = Some(until);
        let change = self.apply(
            &mut control,
            from,
            BreakerState::Open,
            Cause::RetryAfter,
            now,
            until,
        );
        drop(control);
        self.announce(&change);
    }

    /// Puts the breaker in `to` whatever its state, for the operator.
    pub(crate) fn operate(&self, to: BreakerState, clear_counters: bool) {
        let now = self.nanos(Instant::now());
        let mut control = self.lock();
        let from = Word(self.state.load(Ordering::Relaxed));
        if clear_counters {
            control.total_trips = 0;
            control.shadow_trips = 0;
            self.rejected.store(0, Ordering::Relaxed);
        }
        let change = self.apply(&mut control, from, to, Cause::Operator, now, None);
        drop(control);
        self.announce(&change);
    }

    /// Writes the state `to` and what it needs, then publishes its word.
    fn apply(
        &self,
        control: &mut Control,
        from: Word,
        to: BreakerState,
        cause: Cause,
        now: u64,
        until: Option<u64>,
    ) -> Change {
        let counts = self.window.counts(now);
        let word = from.next(to);
        let mut retry_after = Duration::ZERO;
        let mut failure_rate = counts.failure_rate();

        if cause.is_trip() && to == BreakerState::MetricsOnly {
            control.shadow_trips += 1;
        } else if cause.is_trip() {
            control.trips = control.trips.saturating_add(1);
            control.total_trips += 1;
        }
        match to {
            BreakerState::Closed | BreakerState::MetricsOnly | BreakerState::Disabled => {
                if to == BreakerState::Closed {
                    control.trips = 0;
                }
                self.window.clear();
                self.consecutive.store(0, Ordering::Relaxed);
                failure_rate = 0.0;
            }
            BreakerState::Open => {
                let until = until.unwrap_or_else(|| {
                    let unit = control.jitter.unit();
                    let open_for = self.rules.backoff.open_duration(control.trips, unit);
                    now.saturating_add(nanos(open_for))
                });
                self.open_until.store(until, Ordering::Relaxed);
                retry_after = Duration::from_nanos(until.saturating_sub(now));
            }
            BreakerState::HalfOpen => {
                self.probes.start(word.generation());
                let deadline = now.saturating_add(self.rules.half_open_timeout);
                self.half_open_deadline.store(deadline, Ordering::Relaxed);
            }
            BreakerState::ForcedOpen => {}
        }
        self.state.store(word.0, Ordering::Release);

        self.telemetry.state(to);
        self.telemetry.failure_rate(failure_rate);
        Change {
            from: from.state(),
            to,
            cause,
            failure_rate: counts.failure_rate(),
            slow_rate: counts.slow_rate(),
            retry_after,
        }
    }

    fn announce(&self, change: &Change) {
        tracing::debug!(
            target: target::BREAKER,
            name = %self.config.name,
            from = change.from.as_str(),
            state = change.to.as_str(),
            cause = change.cause.as_str(),
            failure_rate = change.failure_rate,
            slow_rate = change.slow_rate,
            retry_after = ?change.retry_after,
            "circuit breaker transition"
        );
    }
}

pub(crate) fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

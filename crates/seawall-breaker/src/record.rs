//! Recording finished calls, and deciding whether they trip the breaker.

use std::time::Duration;

use seawall_core::Outcome;
use tokio::time::Instant;

use crate::breaker::{Breaker, Clock, Rules, PPM};
use crate::probes::Verdict;
use crate::state::{BreakerState, Word};
use crate::sync::Ordering;
use crate::transition::Cause;
use crate::window::{Counts, CALL, FAILURE, SLOW};

impl Breaker {
    /// Records a call admitted under `word` (closed or metrics-only).
    ///
    /// The healthy case, a success that changes nothing, is decided here
    /// inline; everything else goes out of line.
    #[inline]
    pub(crate) fn record_call<F>(
        &self,
        word: Word,
        outcome: Outcome,
        elapsed: Duration,
        clock: &mut Clock<F>,
    ) where
        F: FnOnce() -> Instant,
    {
        let Some(code) = self.rules.code(outcome, elapsed) else {
            return;
        };
        // Whatever period the breaker is in, such a success would write
        // nothing: no run of failures to end, no slot that changes.
        if code == CALL && self.window.full_of_successes() && !self.in_a_run() {
            return;
        }
        self.record_code(word, code, clock);
    }

    #[inline(never)]
    fn record_code<F>(&self, word: Word, code: u8, clock: &mut Clock<F>)
    where
        F: FnOnce() -> Instant,
    {
        // A call admitted before the last transition says nothing about
        // the period the breaker is in now.
        if Word(self.state.load(Ordering::Acquire)) != word {
            return;
        }

        let consecutive = self.count_consecutive(code & FAILURE != 0);
        let counts = self.window.record(code, || clock.nanos(self.start));

        // A success that replaced a success changed nothing to judge.
        if counts.is_some() || consecutive > 0 {
            self.judge(word, counts, consecutive, clock);
        }
    }

    fn judge<F>(&self, word: Word, counts: Option<Counts>, consecutive: u32, clock: &mut Clock<F>)
    where
        F: FnOnce() -> Instant,
    {
        if let Some(counts) = counts {
            self.telemetry.failure_rate(counts.failure_rate());
        }
        let Some(cause) = self.rules.trip_cause(counts, consecutive) else {
            return;
        };
        let now = clock.nanos(self.start);
        if word.state() == BreakerState::MetricsOnly {
            self.transition(word, BreakerState::MetricsOnly, cause, now);
        } else {
            self.transition(word, BreakerState::Open, cause, now);
        }
    }

    /// Records a probe of the half-open period `generation`.
    pub(crate) fn record_probe<F>(
        &self,
        generation: u64,
        outcome: Outcome,
        elapsed: Duration,
        clock: &mut Clock<F>,
    ) where
        F: FnOnce() -> Instant,
    {
        let Some(code) = self.rules.code(outcome, elapsed) else {
            self.probes.give_back(generation);
            return;
        };
        let word = Word(self.state.load(Ordering::Acquire));
        let current = word.state() == BreakerState::HalfOpen && word.generation() == generation;
        if !current {
            return;
        }

        // A result that comes after the half-open period gave up is too
        // late to count: the period ends as timed out.
        let now = clock.nanos(self.start);
        if now >= self.half_open_deadline.load(Ordering::Relaxed) {
            self.transition(word, BreakerState::Open, Cause::HalfOpenTimeout, now);
            return;
        }

        match self
            .probes
            .record(generation, self.rules.probe_succeeded(code))
        {
            Some(Verdict::Close) => {
                self.transition(word, BreakerState::Closed, Cause::ProbesSucceeded, now);
            }
            Some(Verdict::Reopen) => {
                self.transition(word, BreakerState::Open, Cause::ProbesFailed, now);
            }
            None => {}
        }
    }

    /// Whether a run of failures is being counted, which a success ends.
    #[inline]
    fn in_a_run(&self) -> bool {
        self.rules.consecutive_failures.is_some() && self.consecutive.load(Ordering::Relaxed) != 0
    }

    /// Counts a failure in a row, or ends the run on a success; returns the
    /// run's length.
    #[inline]
    fn count_consecutive(&self, failed: bool) -> u32 {
        if self.rules.consecutive_failures.is_none() {
            return 0;
        }
        if failed {
            return self
                .consecutive
                .fetch_add(1, Ordering::Relaxed)
                .saturating_add(1);
        }
        // Load first: a healthy upstream then never writes the line.
        if self.consecutive.load(Ordering::Relaxed) != 0 {
            self.consecutive.store(0, Ordering::Relaxed);
        }
        0
    }
}

impl Rules {
    /// The window's code for an outcome, `None` for one that does not
    /// count.
    #[inline]
    pub(crate) fn code(&self, outcome: Outcome, elapsed: Duration) -> Option<u8> {
        let code = match outcome {
            Outcome::Success => CALL,
            Outcome::Failure(_) => CALL | FAILURE,
            _ => return None,
        };
        let slow = self.slow_call_duration.is_some_and(|limit| elapsed > limit);
        Some(if slow { code | SLOW } else { code })
    }

    /// A probe succeeds if it did not fail and, where slow calls can trip
    /// the breaker, was not slow either: closing on slow successes would
    /// only trip again.
    fn probe_succeeded(&self, code: u8) -> bool {
        let slow_counts = self.slow_ppm.is_some() && code & SLOW != 0;
        code & FAILURE == 0 && !slow_counts
    }

    /// The trigger that fires for these counts, if any. Consecutive
    /// failures need no minimum of calls: the run is its own minimum.
    pub(crate) fn trip_cause(&self, counts: Option<Counts>, consecutive: u32) -> Option<Cause> {
        if self
            .consecutive_failures
            .is_some_and(|limit| consecutive >= limit)
        {
            return Some(Cause::ConsecutiveFailures);
        }
        let counts = counts?;
        if counts.calls < self.minimum_calls {
            return None;
        }
        if reached(counts.failures, counts.calls, self.failure_ppm) {
            return Some(Cause::FailureRate);
        }
        if reached(counts.slow, counts.calls, self.slow_ppm) {
            return Some(Cause::SlowRate);
        }
        None
    }
}

/// Whether `part` of `whole` reaches a rate of `ppm` parts per million; a
/// rate of zero is reached by any one call.
fn reached(part: u64, whole: u64, ppm: Option<u64>) -> bool {
    let Some(ppm) = ppm else {
        return false;
    };
    part > 0 && u128::from(part) * u128::from(PPM) >= u128::from(ppm) * u128::from(whole)
}

//! The breaker's metrics, registered once when the breaker is built.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `seawall_breaker_calls_total` | counter | `name`, `outcome` |
//! | `seawall_breaker_rejected_total` | counter | `name` |
//! | `seawall_breaker_state` | gauge | `name` |
//! | `seawall_breaker_failure_rate` | gauge | `name` |
//!
//! `outcome` is one of `success`, `error`, `timeout`, `slow`, `rejected`
//! (the upstream refused), `ignored` and `cancelled`; a handle for each is
//! made up front so that counting a call builds no key. The state gauge
//! holds [`BreakerState::gauge_value`]: 0 closed, 1 half-open, 2 open,
//! 3 forced open, 4 disabled, 5 metrics-only. The failure-rate gauge is
//! set on every transition and whenever a call changes the window's counts.

use metrics::{counter, gauge, Counter, Gauge};
use seawall_core::names::label;
use seawall_core::{FailureKind, Outcome};

use crate::state::BreakerState;

const OUTCOMES: [&str; 7] = [
    "success",
    "error",
    "timeout",
    "slow",
    "rejected",
    "ignored",
    "cancelled",
];

pub(crate) struct Telemetry {
    calls: [Counter; 7],
    rejected: Counter,
    state: Gauge,
    failure_rate: Gauge,
}

impl Telemetry {
    pub(crate) fn register(name: &str) -> Self {
        let calls = OUTCOMES.map(|outcome| {
            counter!(
                "seawall_breaker_calls_total",
                label::NAME => name.to_owned(),
                label::OUTCOME => outcome
            )
        });
        let telemetry = Telemetry {
            calls,
            rejected: counter!("seawall_breaker_rejected_total", label::NAME => name.to_owned()),
            state: gauge!("seawall_breaker_state", label::NAME => name.to_owned()),
            failure_rate: gauge!("seawall_breaker_failure_rate", label::NAME => name.to_owned()),
        };
        telemetry.state.set(BreakerState::Closed.gauge_value());
        telemetry.failure_rate.set(0.0);
        telemetry
    }

    #[inline]
    pub(crate) fn call(&self, outcome: Outcome) {
        let index = match outcome {
            Outcome::Success => 0,
            Outcome::Failure(FailureKind::Timeout) => 2,
            Outcome::Failure(FailureKind::Slow) => 3,
            Outcome::Failure(FailureKind::Rejected) => 4,
            Outcome::Failure(_) => 1,
            Outcome::Cancelled => 6,
            _ => 5,
        };
        self.calls[index].increment(1);
    }

    pub(crate) fn rejected(&self) {
        self.rejected.increment(1);
    }

    pub(crate) fn state(&self, state: BreakerState) {
        self.state.set(state.gauge_value());
    }

    pub(crate) fn failure_rate(&self, rate: f64) {
        self.failure_rate.set(rate);
    }
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry").finish_non_exhaustive()
    }
}

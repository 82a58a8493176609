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
//!
//! The breakers of one keyed layer share one set of handles, labelled with
//! the layer's name only, so that a thousand hosts make no more series than
//! one: the calls and rejections above, and instead of the per-breaker
//! gauges,
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `seawall_breaker_keys` | gauge | `name` |
//! | `seawall_breaker_keys_open` | gauge | `name` |
//! | `seawall_breaker_evictions_total` | counter | `name` |
//!
//! `seawall_breaker_keys_open` counts the keys whose breaker is open,
//! half-open or forced open (an evicted breaker still in use counts until
//! its last call ends).

use std::sync::atomic::{AtomicBool, Ordering};

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

/// C order puts the success counter first, where the breaker keeps it
/// next to its state word.
#[repr(C)]
pub(crate) struct Telemetry {
    calls: [Counter; 7],
    rejected: Counter,
    state: StateGauge,
    failure_rate: Gauge,
}

/// Where a breaker's state goes.
enum StateGauge {
    /// A breaker of its own: its state gauge.
    Value(Gauge),
    /// One key of a keyed layer: a share of the layer's count of tripped
    /// keys, which this breaker adds to while it is tripped.
    Key {
        keys_open: Gauge,
        /// Whether this breaker is counted in `keys_open`; written under
        /// the breaker's transition lock.
        counted: AtomicBool,
    },
}

/// The handles a keyed layer registers once and every key's breaker
/// shares.
pub(crate) struct KeyedTelemetry {
    calls: [Counter; 7],
    rejected: Counter,
    keys_open: Gauge,
    keys: Gauge,
    evictions: Counter,
}

impl Telemetry {
    pub(crate) fn register(name: &str) -> Self {
        let telemetry = Telemetry {
            calls: register_calls(name),
            rejected: register_rejected(name),
            state: StateGauge::Value(
                gauge!("seawall_breaker_state", label::NAME => name.to_owned()),
            ),
            failure_rate: gauge!("seawall_breaker_failure_rate", label::NAME => name.to_owned()),
        };
        telemetry.state(BreakerState::Closed);
        telemetry.failure_rate.set(0.0);
        telemetry
    }

    /// The telemetry of one key's breaker: clones of the layer's handles,
    /// so building it registers nothing and builds no metric key.
    pub(crate) fn for_key(keyed: &KeyedTelemetry) -> Self {
        Telemetry {
            calls: keyed.calls.clone(),
            rejected: keyed.rejected.clone(),
            state: StateGauge::Key {
                keys_open: keyed.keys_open.clone(),
                counted: AtomicBool::new(false),
            },
            failure_rate: Gauge::noop(),
        }
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
        match &self.state {
            StateGauge::Value(gauge) => gauge.set(state.gauge_value()),
            StateGauge::Key { keys_open, counted } => {
                let tripped = is_tripped(state);
                if counted.swap(tripped, Ordering::Relaxed) != tripped {
                    if tripped {
                        keys_open.increment(1.0);
                    } else {
                        keys_open.decrement(1.0);
                    }
                }
            }
        }
    }

    pub(crate) fn failure_rate(&self, rate: f64) {
        self.failure_rate.set(rate);
    }
}

impl KeyedTelemetry {
    pub(crate) fn register(name: &str) -> Self {
        let keyed = KeyedTelemetry {
            calls: register_calls(name),
            rejected: register_rejected(name),
            keys_open: gauge!("seawall_breaker_keys_open", label::NAME => name.to_owned()),
            keys: gauge!("seawall_breaker_keys", label::NAME => name.to_owned()),
            evictions: counter!("seawall_breaker_evictions_total", label::NAME => name.to_owned()),
        };
        keyed.keys_open.set(0.0);
        keyed.keys.set(0.0);
        keyed
    }

    /// One key was added.
    pub(crate) fn inserted(&self) {
        self.keys.increment(1.0);
    }

    /// `evicted` keys were let go to make room.
    pub(crate) fn evicted(&self, evicted: usize) {
        self.keys.decrement(evicted as f64);
        self.evictions.increment(evicted as u64);
    }
}

/// The states a keyed layer counts as open: those that refuse or ration
/// calls.
pub(crate) fn is_tripped(state: BreakerState) -> bool {
    matches!(
        state,
        BreakerState::Open | BreakerState::HalfOpen | BreakerState::ForcedOpen
    )
}

fn register_calls(name: &str) -> [Counter; 7] {
    OUTCOMES.map(|outcome| {
        counter!(
            "seawall_breaker_calls_total",
            label::NAME => name.to_owned(),
            label::OUTCOME => outcome
        )
    })
}

fn register_rejected(name: &str) -> Counter {
    counter!("seawall_breaker_rejected_total", label::NAME => name.to_owned())
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        // A key's breaker that goes while tripped takes its share of the
        // layer's gauge with it.
        if let StateGauge::Key { keys_open, counted } = &self.state {
            if counted.load(Ordering::Relaxed) {
                keys_open.decrement(1.0);
            }
        }
    }
}

impl std::fmt::Debug for KeyedTelemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedTelemetry").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry").finish_non_exhaustive()
    }
}

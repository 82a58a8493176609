//! What an operator sees and does: state, counters, and manual control.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::breaker::Breaker;
use crate::health::Registered;
use crate::state::{BreakerState, Word};
use crate::sync::Ordering;

/// A cloneable handle to a breaker, for operators: read its state and
/// counters, force it open or closed, disable it, put it in shadow mode, or
/// reset it.
///
/// Get one from [`CircuitBreakerLayer::handle`](crate::CircuitBreakerLayer::handle).
/// Operator states last until another call on a handle: the breaker never
/// leaves them by itself.
///
/// ```
/// use seawall_breaker::{BreakerConfig, BreakerState, CircuitBreakerLayer};
///
/// let layer = CircuitBreakerLayer::new(BreakerConfig::default());
/// let handle = layer.handle();
/// handle.force_open();
/// assert_eq!(handle.state(), BreakerState::ForcedOpen);
/// handle.reset();
/// assert_eq!(handle.state(), BreakerState::Closed);
/// ```
#[derive(Clone)]
pub struct BreakerHandle {
    breaker: Arc<Breaker>,
    /// The layer's health entry, held (never read) so that it lasts while
    /// the handle does.
    _entry: Option<Arc<Registered>>,
}

/// A breaker's state and counters at one moment.
///
/// The window's counts are those it holds now: after a trip they are the
/// counts that tripped it, until the breaker closes again with an empty
/// window.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BreakerStats {
    /// The state, as the next call would find it: an open breaker whose
    /// open period is over reads half-open, a half-open one whose verdict
    /// is overdue reads open.
    pub state: BreakerState,
    /// How long until an open breaker lets a probe through; `None` when it
    /// is not open, or when an overdue half-open period has yet to pick its
    /// next open duration.
    pub retry_after: Option<Duration>,
    /// Calls in the window.
    pub calls: u64,
    /// Failed calls in the window.
    pub failures: u64,
    /// Slow calls in the window.
    pub slow_calls: u64,
    /// `failures / calls`, 0 for an empty window.
    pub failure_rate: f64,
    /// `slow_calls / calls`, 0 for an empty window.
    pub slow_rate: f64,
    /// The current run of failures (counted only with the
    /// consecutive-failures trigger on).
    pub consecutive_failures: u32,
    /// Probes of the current half-open period still in flight.
    pub probes_in_flight: u32,
    /// Calls refused since the breaker was built or reset.
    pub rejected: u64,
    /// Times the breaker opened by its own judgement (thresholds, failed or
    /// overdue probes) since it was built or reset.
    pub trips: u64,
    /// Times a metrics-only breaker would have opened.
    pub shadow_trips: u64,
    /// State changes since the breaker was built, operator actions
    /// included; never reset.
    pub transitions: u64,
}

impl BreakerHandle {
    /// A handle to `breaker`.
    pub fn new(breaker: Arc<Breaker>) -> Self {
        BreakerHandle::with_entry(breaker, None)
    }

    pub(crate) fn with_entry(breaker: Arc<Breaker>, registered: Option<Arc<Registered>>) -> Self {
        BreakerHandle {
            breaker,
            _entry: registered,
        }
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        self.breaker.name()
    }

    /// The breaker this handle controls.
    pub fn breaker(&self) -> &Arc<Breaker> {
        &self.breaker
    }

    /// See [`Breaker::state`].
    pub fn state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// See [`Breaker::stats`].
    pub fn stats(&self) -> BreakerStats {
        self.breaker.stats()
    }

    /// See [`Breaker::force_open`].
    pub fn force_open(&self) {
        self.breaker.force_open();
    }

    /// See [`Breaker::force_closed`].
    pub fn force_closed(&self) {
        self.breaker.force_closed();
    }

    /// See [`Breaker::disable`].
    pub fn disable(&self) {
        self.breaker.disable();
    }

    /// See [`Breaker::metrics_only`].
    pub fn metrics_only(&self) {
        self.breaker.metrics_only();
    }

    /// See [`Breaker::reset`].
    pub fn reset(&self) {
        self.breaker.reset();
    }
}

impl Breaker {
    /// The state the next call would find, by tokio's clock.
    pub fn state(&self) -> BreakerState {
        self.state_at(Instant::now())
    }

    /// The state the next call would find at `now`.
    pub fn state_at(&self, now: Instant) -> BreakerState {
        self.view(self.nanos(now)).0
    }

    /// The state and counters, by tokio's clock.
    pub fn stats(&self) -> BreakerStats {
        self.stats_at(Instant::now())
    }

    /// The state and counters at `now`.
    pub fn stats_at(&self, now: Instant) -> BreakerStats {
        let now = self.nanos(now);
        let (state, retry_after, word) = self.view(now);
        let counts = self.window.counts(now);
        let probes = if word.state() == BreakerState::HalfOpen {
            self.probes.counts(word.generation())
        } else {
            Default::default()
        };
        let control = self.lock();
        BreakerStats {
            state,
            retry_after,
            calls: counts.calls,
            failures: counts.failures,
            slow_calls: counts.slow,
            failure_rate: counts.failure_rate(),
            slow_rate: counts.slow_rate(),
            consecutive_failures: self.consecutive.load(Ordering::Relaxed),
            probes_in_flight: probes.in_flight,
            rejected: self.rejected.load(Ordering::Relaxed),
            trips: control.total_trips,
            shadow_trips: control.shadow_trips,
            transitions: word.generation(),
        }
    }

    /// Holds the breaker open, refusing every call with a
    /// [`CircuitOpen`](crate::error::CircuitOpen) marked forced, until
    /// another operator call.
    pub fn force_open(&self) {
        self.operate(BreakerState::ForcedOpen, false);
    }

    /// Closes the breaker now, with an empty window and the backoff back at
    /// its first step, and returns it to automatic operation: its
    /// thresholds can trip it again. Also ends any operator state.
    pub fn force_closed(&self) {
        self.operate(BreakerState::Closed, false);
    }

    /// Turns the breaker off: every call goes through and nothing is
    /// recorded, until another operator call.
    pub fn disable(&self) {
        self.operate(BreakerState::Disabled, false);
    }

    /// Shadow mode: every call goes through and is counted as if the
    /// breaker were closed. Where it would have opened, it logs the
    /// transition it would have made (from `metrics_only` to `metrics_only`,
    /// with the trigger as `cause`), counts a
    /// [`shadow_trips`](BreakerStats::shadow_trips), and starts a fresh
    /// window. A safe way to try thresholds on live traffic.
    pub fn metrics_only(&self) {
        self.operate(BreakerState::MetricsOnly, false);
    }

    /// Returns the breaker to its first state: closed, automatic, an empty
    /// window, the backoff at its first step, and the `rejected`, `trips`
    /// and `shadow_trips` counters at zero.
    pub fn reset(&self) {
        self.operate(BreakerState::Closed, true);
    }

    /// The state at `now` as the next call would find it, the time until a
    /// probe is allowed, and the stored word.
    fn view(&self, now: u64) -> (BreakerState, Option<Duration>, Word) {
        let word = Word(self.state.load(Ordering::Acquire));
        match word.state() {
            BreakerState::Open => {
                let until = self.open_until.load(Ordering::Relaxed);
                if now >= until {
                    (BreakerState::HalfOpen, None, word)
                } else {
                    let left = Duration::from_nanos(until - now);
                    (BreakerState::Open, Some(left), word)
                }
            }
            BreakerState::HalfOpen if now >= self.half_open_deadline.load(Ordering::Relaxed) => {
                (BreakerState::Open, None, word)
            }
            state => (state, None, word),
        }
    }
}

impl fmt::Debug for BreakerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BreakerHandle").field(&self.breaker).finish()
    }
}

//! The failure accounting: what the breaker remembers of recent calls.
//!
//! Both windows record a call in O(1) with a few relaxed atomic operations
//! and no lock, and return the counts as they stand after that call, which is
//! what the trip decision is taken on. Every value the counters take is seen
//! by the call that produced it, so no crossing of a threshold goes
//! unnoticed.
//!
//! Under races the counts are approximate in small ways, which the trip
//! decision tolerates: a call that finishes while the window is being reset,
//! or while a time bucket is being expired, may land in the fresh window or
//! be dropped with the old bucket. The counters never drift, though: every
//! amount added to a total is taken out again exactly when the slot or
//! bucket holding it is cleared.

mod count;
mod time;

use crate::config::Window as WindowConfig;

pub(crate) use count::CountWindow;
pub(crate) use time::TimeWindow;

/// The call counted: set for every recorded call.
pub(crate) const CALL: u8 = 1;
/// The call failed.
pub(crate) const FAILURE: u8 = 2;
/// The call took longer than the slow-call threshold.
pub(crate) const SLOW: u8 = 4;

/// A window of either kind.
#[derive(Debug)]
pub(crate) enum Window {
    Count(CountWindow),
    Time(TimeWindow),
}

/// What a window holds: calls, and how many of them failed or were slow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) calls: u64,
    pub(crate) failures: u64,
    pub(crate) slow: u64,
}

impl Window {
    pub(crate) fn new(config: WindowConfig) -> Self {
        match config {
            WindowConfig::Count { size } => Window::Count(CountWindow::new(size)),
            WindowConfig::Time { length, buckets } => {
                Window::Time(TimeWindow::new(length, buckets))
            }
        }
    }

    /// Records one call (a combination of [`CALL`], [`FAILURE`] and
    /// [`SLOW`]) that ended `now` nanoseconds after the breaker started.
    ///
    /// Returns the counts after the call, or `None` when the call changed
    /// nothing (in a count window, a call replacing one just like it).
    #[inline]
    pub(crate) fn record(&self, code: u8, now: impl FnOnce() -> u64) -> Option<Counts> {
        match self {
            Window::Count(window) => window.record(code),
            Window::Time(window) => Some(window.record(code, now())),
        }
    }

    /// Whether a plain success would change nothing: a count window full
    /// of them. A time window always counts the call.
    #[inline]
    pub(crate) fn full_of_successes(&self) -> bool {
        match self {
            Window::Count(window) => window.full_of_successes(),
            Window::Time(_) => false,
        }
    }

    /// The counts as they stand; a time window leaves out the buckets that
    /// have aged out by `now`.
    pub(crate) fn counts(&self, now: u64) -> Counts {
        match self {
            Window::Count(window) => window.counts(),
            Window::Time(window) => window.counts(now),
        }
    }

    /// Empties the window.
    pub(crate) fn clear(&self) {
        match self {
            Window::Count(window) => window.clear(),
            Window::Time(window) => window.clear(),
        }
    }
}

impl Counts {
    /// The share of calls that failed, 0 for an empty window.
    pub(crate) fn failure_rate(&self) -> f64 {
        ratio(self.failures, self.calls)
    }

    /// The share of calls that were slow, 0 for an empty window.
    pub(crate) fn slow_rate(&self) -> f64 {
        ratio(self.slow, self.calls)
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    part as f64 / whole as f64
}

//! The generic cell rate algorithm on one atomic word.
//!
//! A quota's whole state is its theoretical arrival time (TAT) in
//! nanoseconds since the limiter's origin: the moment its bucket will be
//! full again. A request at `t` conforms when `max(TAT, t) - t <= τ`, where
//! `τ = (burst - 1) × interval` is how far ahead of the steady rate a burst
//! may run; admitting it moves TAT to `max(TAT, t) + interval`. A TAT at or
//! before `t` is a full bucket, so a quota nobody used is simply `0`.
//!
//! Admission is one compare-and-swap. Relaxed ordering is enough: the word
//! publishes no other data, and each read-modify-write sees the latest
//! value of the word itself.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use seawall_core::rejection::QuotaPolicy;

use crate::error::ConfigError;
use crate::quota::Quota;

/// The longest burst window accepted, about 146 years: far beyond any use,
/// and small enough that adding it to a time cannot overflow.
pub(crate) const MAX_WINDOW: u64 = u64::MAX / 4;

/// A checked quota: its interval and tolerance in nanoseconds.
#[derive(Debug)]
pub(crate) struct Gcra {
    interval: u64,
    tolerance: u64,
    burst: u32,
    policy: QuotaPolicy,
}

/// How an admission may wait, and the random word its jitter is drawn
/// from. Shedding is `Plan::SHED`: no wait, no jitter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) max_wait: u64,
    pub(crate) jitter: u64,
    pub(crate) random: u64,
}

/// An admission on one quota: the moment the request is counted at, and
/// the TAT before it, to give the admission back exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grant {
    pub(crate) slot: u64,
    pub(crate) prev: u64,
}

impl Gcra {
    /// Checks `quota`, naming it `default_name` unless it has a name.
    pub(crate) fn new(quota: &Quota, default_name: &str) -> Result<Gcra, ConfigError> {
        let name = quota.name_or(default_name);
        if name.is_empty() {
            return Err(ConfigError::new("quota", "quota names must not be empty"));
        }
        if quota.count() == 0 {
            return Err(ConfigError::new(
                "rate",
                format!("quota {name:?}: rate must be at least 1 per period, got 0"),
            ));
        }
        let period = quota.period().as_nanos();
        if period == 0 {
            return Err(ConfigError::new(
                "rate",
                format!("quota {name:?}: the period must be greater than zero"),
            ));
        }
        // Rounded down: a client that keeps to the configured rate is
        // never refused for a rounding error, and the limit is looser
        // than asked by less than a nanosecond per interval.
        let interval = period / u128::from(quota.count());
        if interval == 0 {
            return Err(ConfigError::new(
                "rate",
                format!(
                    "quota {name:?}: at most one request per nanosecond, got {} per {:?}",
                    quota.count(),
                    quota.period()
                ),
            ));
        }
        let burst = quota.burst_or_count();
        if burst == 0 {
            return Err(ConfigError::new(
                "burst",
                format!("quota {name:?}: burst must be at least 1, got 0"),
            ));
        }
        let window = interval * u128::from(burst);
        if window > u128::from(MAX_WINDOW) {
            return Err(ConfigError::new(
                "burst",
                format!(
                    "quota {name:?}: burst × interval must be at most {:?}, got {} ns",
                    Duration::from_nanos(MAX_WINDOW),
                    window
                ),
            ));
        }

        // Both fit: the window bounds them.
        let interval = interval as u64;
        let window = window as u64;
        Ok(Gcra {
            interval,
            tolerance: window - interval,
            burst,
            policy: QuotaPolicy::new(
                name.to_owned(),
                u64::from(burst),
                Duration::from_nanos(window),
            ),
        })
    }

    pub(crate) fn policy(&self) -> &QuotaPolicy {
        &self.policy
    }

    pub(crate) fn name(&self) -> &str {
        self.policy.name()
    }

    pub(crate) fn burst(&self) -> u32 {
        self.burst
    }

    /// How long a request at `now` must wait to conform, given `tat`.
    #[inline]
    pub(crate) fn wait(&self, tat: u64, now: u64) -> u64 {
        tat.max(now)
            .saturating_sub(now.saturating_add(self.tolerance))
    }

    /// How many requests would conform at `now`, given `tat`.
    pub(crate) fn headroom(&self, tat: u64, now: u64) -> u32 {
        let window = self.tolerance + self.interval;
        let room = now.saturating_add(window).saturating_sub(tat.max(now));
        // At most `burst`, which is a `u32`.
        (room / self.interval) as u32
    }

    /// Admits one request on this quota alone: at once, or after a wait of
    /// at most `plan.max_wait`. Returns the wait needed when it is longer.
    #[inline]
    pub(crate) fn admit(&self, tat: &AtomicU64, now: u64, plan: &Plan) -> Result<Grant, u64> {
        let mut current = tat.load(Relaxed);
        loop {
            let wait = self.wait(current, now);
            if wait > plan.max_wait {
                return Err(wait);
            }
            let slot = plan.slot(now, wait);
            let next = current.max(slot) + self.interval;
            match tat.compare_exchange_weak(current, next, Relaxed, Relaxed) {
                Ok(_) => {
                    return Ok(Grant {
                        slot,
                        prev: current,
                    })
                }
                Err(actual) => current = actual,
            }
        }
    }

    /// Counts a request at `slot`, if it still conforms there; used once
    /// every quota of a request was found to allow it.
    #[inline]
    pub(crate) fn commit(&self, tat: &AtomicU64, slot: u64) -> Option<Grant> {
        let mut current = tat.load(Relaxed);
        loop {
            if self.wait(current, slot) > 0 {
                return None;
            }
            let next = current.max(slot) + self.interval;
            match tat.compare_exchange_weak(current, next, Relaxed, Relaxed) {
                Ok(_) => {
                    return Some(Grant {
                        slot,
                        prev: current,
                    })
                }
                Err(actual) => current = actual,
            }
        }
    }

    /// Gives an unused admission back, if no other request was counted
    /// since; otherwise it stays spent.
    ///
    /// One word cannot hold a hole: taking the interval off a TAT that
    /// later requests built on would move the end of the queue back while
    /// their slots stay where they are, and let one request too many in.
    /// Restoring the exact word only when it is still the one this grant
    /// wrote keeps every quota safe, at the price of sometimes spending a
    /// slot that was not used.
    pub(crate) fn release(&self, tat: &AtomicU64, grant: Grant) {
        let written = grant.prev.max(grant.slot) + self.interval;
        let _ = tat.compare_exchange(written, grant.prev, Relaxed, Relaxed);
    }
}

impl Plan {
    /// Refuse at once, never wait.
    pub(crate) const SHED: Plan = Plan {
        max_wait: 0,
        jitter: 0,
        random: 0,
    };

    /// The moment a request that must wait `wait` is counted at and sent:
    /// `now + wait + j`, with `j` drawn uniformly from
    /// `0..=min(jitter, max_wait - wait)`. No wait, no jitter.
    #[inline]
    pub(crate) fn slot(&self, now: u64, wait: u64) -> u64 {
        if wait == 0 {
            return now;
        }
        let span = self.jitter.min(self.max_wait - wait);
        now + wait + spread(self.random, span)
    }
}

/// A uniform draw from `0..=span` out of a random word: the high half of
/// the 128-bit product, which avoids the bias of `%` for spans far below
/// 2^64.
pub(crate) fn spread(random: u64, span: u64) -> u64 {
    ((u128::from(random) * (u128::from(span) + 1)) >> 64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn gcra(quota: Quota) -> Gcra {
        Gcra::new(&quota, "test").unwrap()
    }

    #[test]
    fn a_full_bucket_admits_the_burst_then_one_per_interval() {
        let gcra = gcra(Quota::per_second(10).burst(3));
        let tat = AtomicU64::new(0);
        for _ in 0..3 {
            gcra.admit(&tat, 0, &Plan::SHED).unwrap();
        }
        assert_eq!(gcra.admit(&tat, 0, &Plan::SHED), Err(100 * MS));
        assert_eq!(gcra.headroom(tat.load(Relaxed), 0), 0);
        assert_eq!(gcra.headroom(tat.load(Relaxed), 100 * MS), 1);
        assert_eq!(gcra.headroom(tat.load(Relaxed), 300 * MS), 3);
    }

    #[test]
    fn the_interval_rounds_down() {
        let gcra = gcra(Quota::per_second(3));
        assert_eq!(gcra.interval, 333_333_333);
        assert_eq!(gcra.policy().window(), Duration::from_nanos(999_999_999));
    }

    #[test]
    fn a_release_restores_only_an_untouched_word() {
        let gcra = gcra(Quota::per_second(10));
        let tat = AtomicU64::new(0);
        let grant = gcra.admit(&tat, 5, &Plan::SHED).unwrap();
        gcra.release(&tat, grant);
        assert_eq!(tat.load(Relaxed), 0);

        let first = gcra.admit(&tat, 5, &Plan::SHED).unwrap();
        let _second = gcra.admit(&tat, 5, &Plan::SHED).unwrap();
        let before = tat.load(Relaxed);
        gcra.release(&tat, first);
        assert_eq!(tat.load(Relaxed), before, "a later request built on it");
    }

    #[test]
    fn the_spread_covers_its_span_and_never_more() {
        assert_eq!(spread(0, 10), 0);
        assert_eq!(spread(u64::MAX, 10), 10);
        assert_eq!(spread(u64::MAX, 0), 0);
        assert_eq!(spread(u64::MAX / 2, 1), 0);
        assert_eq!(spread(u64::MAX / 2 + 1, 1), 1);
    }

    #[test]
    fn a_waiting_slot_stays_within_the_bound() {
        let plan = Plan {
            max_wait: 10 * MS,
            jitter: 50 * MS,
            random: u64::MAX,
        };
        assert_eq!(plan.slot(7, 0), 7, "no wait, no jitter");
        assert_eq!(plan.slot(0, 4 * MS), 10 * MS);
    }
}

//! How long the breaker stays open.
//!
//! For the n-th trip in a row (n = 1 for the first trip after the breaker
//! was closed):
//!
//! ```text
//! nominal(n) = min(max_open_duration, open_duration × multiplier^(n−1))
//! open(n)    = nominal(n) × (1 − open_jitter × u),  u uniform in [0, 1)
//! ```
//!
//! Jitter only shortens the period, so `open(n)` lies in
//! `((1 − open_jitter) × nominal(n), nominal(n)]` and never exceeds
//! `max_open_duration`. With the defaults (no `max_open_duration`, no
//! jitter) every period is `open_duration`. The arithmetic runs on
//! nanoseconds as `f64` and the result is clamped to the cap once more, so
//! rounding cannot push it over.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::config::BreakerConfig;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    base: Duration,
    max: Duration,
    multiplier: f64,
    jitter: f64,
}

impl Backoff {
    pub(crate) fn new(config: &BreakerConfig) -> Self {
        Backoff {
            base: config.open_duration,
            max: config.max_open_duration,
            multiplier: config.open_backoff_multiplier,
            jitter: config.open_jitter,
        }
    }

    /// The first step, without jitter.
    pub(crate) fn base(&self) -> Duration {
        self.base
    }

    /// The open period after `trips` trips in a row, with `unit` in
    /// `[0, 1)` drawing the jitter.
    pub(crate) fn open_duration(&self, trips: u32, unit: f64) -> Duration {
        let steps = trips.saturating_sub(1).min(1_000) as i32;
        let nominal = if steps == 0 || self.multiplier == 1.0 {
            self.base
        } else {
            let grown = self.base.as_nanos() as f64 * self.multiplier.powi(steps);
            nanos(grown.min(self.max.as_nanos() as f64))
        };
        if self.jitter == 0.0 {
            return nominal.min(self.max);
        }
        let jittered = nominal.as_nanos() as f64 * (1.0 - self.jitter * unit);
        nanos(jittered).min(self.max)
    }
}

fn nanos(value: f64) -> Duration {
    // `as` saturates: a huge value becomes u64::MAX, then the cap applies.
    Duration::from_nanos(value as u64)
}

/// A small generator for jitter: splitmix64, seeded differently for each
/// breaker so that breakers tripped together do not probe together.
#[derive(Debug, Clone)]
pub(crate) struct Jitter {
    state: u64,
}

impl Jitter {
    pub(crate) fn new() -> Self {
        static NEXT_SEED: AtomicU64 = AtomicU64::new(0x5EA_3A11);
        let seed = NEXT_SEED.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        Jitter { state: seed }
    }

    /// A number uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(all(test, not(seawall_loom)))]
mod tests {
    use super::*;

    fn backoff(multiplier: f64, jitter: f64) -> Backoff {
        Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(10),
            multiplier,
            jitter,
        }
    }

    #[test]
    fn grows_then_stops_at_the_cap() {
        let b = backoff(2.0, 0.0);
        let got: Vec<_> = (1..=6).map(|n| b.open_duration(n, 0.5).as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 8, 10, 10]);
        assert_eq!(b.open_duration(u32::MAX, 0.0), Duration::from_secs(10));
    }

    #[test]
    fn jitter_only_shortens_and_never_passes_the_cap() {
        let b = backoff(3.0, 0.5);
        let mut jitter = Jitter::new();
        for n in 1..40 {
            let u = jitter.unit();
            assert!((0.0..1.0).contains(&u));
            let nominal = backoff(3.0, 0.0).open_duration(n, 0.0);
            let got = b.open_duration(n, u);
            assert!(got <= nominal && got <= Duration::from_secs(10));
            assert!(got.as_secs_f64() > nominal.as_secs_f64() * 0.5 - 1e-9);
        }
    }
}

//! A limit that never changes.

use super::error::{at_least_one, InvalidConfig};
use super::{LimitAlgorithm, Sample};

/// A constant concurrency limit: samples are ignored.
///
/// Useful when the capacity of the protected service is known and stable,
/// in tests, and to compare a learned limit against a hand-set one.
///
/// ```
/// use std::time::Duration;
/// use seawall_shed::limit::{Fixed, LimitAlgorithm, Sample};
///
/// let mut fixed = Fixed::new(32)?;
/// assert_eq!(fixed.initial_limit(), 32);
///
/// let slow = Sample { latency: Duration::from_secs(5), in_flight: 32, dropped: true };
/// assert_eq!(fixed.update(&slow), 32);
/// # Ok::<(), seawall_shed::limit::InvalidConfig>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixed {
    limit: usize,
}

impl Fixed {
    /// A limit of `limit` calls in flight; at least 1.
    pub fn new(limit: usize) -> Result<Self, InvalidConfig> {
        at_least_one("limit", limit)?;
        Ok(Fixed { limit })
    }

    /// The limit.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl LimitAlgorithm for Fixed {
    fn initial_limit(&self) -> usize {
        self.limit
    }

    fn update(&mut self, _sample: &Sample) -> usize {
        self.limit
    }

    fn name(&self) -> &'static str {
        "fixed"
    }

    fn learns(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn ignores_every_sample() {
        let mut fixed = Fixed::new(7).unwrap();
        for (millis, dropped) in [(1, false), (10_000, false), (5, true)] {
            let sample = Sample {
                latency: Duration::from_millis(millis),
                in_flight: 7,
                dropped,
            };
            assert_eq!(fixed.update(&sample), 7);
        }
        assert_eq!(fixed.name(), "fixed");
    }

    #[test]
    fn refuses_zero() {
        let error = Fixed::new(0).unwrap_err();
        assert_eq!(error.field(), "limit");
        assert_eq!(error.to_string(), "limit must be at least 1, got 0");
    }
}

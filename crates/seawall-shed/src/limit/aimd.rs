//! A loss-based limit: additive increase, multiplicative decrease.

use std::time::Duration;

use super::error::{at_least_one, limits, ratio, InvalidConfig};
use super::{LimitAlgorithm, Sample};

/// A loss-based limit, for clients: it grows by a few calls per round trip
/// while calls succeed, and shrinks by a ratio when one is lost: dropped, or
/// slower than the configured timeout.
///
/// See the [module docs](super#aimd) for the rules and when to prefer it.
///
/// ```
/// use std::time::Duration;
/// use seawall_shed::limit::{Aimd, LimitAlgorithm, Sample};
///
/// let mut aimd = Aimd::builder()
///     .initial_limit(10)
///     .timeout(Duration::from_millis(500))
///     .build()?;
///
/// // A round trip of successes with every slot in use adds one call.
/// let ok = Sample { latency: Duration::from_millis(20), in_flight: 10, dropped: false };
/// let mut limit = 10;
/// for _ in 0..11 {
///     limit = aimd.update(&ok);
/// }
/// assert_eq!(limit, 11);
///
/// // A call slower than the timeout is a loss: 11 * 0.9 rounds down to 9.
/// let slow = Sample { latency: Duration::from_secs(1), in_flight: 11, dropped: false };
/// assert_eq!(aimd.update(&slow), 9);
/// # Ok::<(), seawall_shed::limit::InvalidConfig>(())
/// ```
#[derive(Debug, Clone)]
pub struct Aimd {
    config: AimdBuilder,
    /// The limit as a real number; published rounded down.
    estimate: f64,
    /// Samples still to come before another loss may cut the limit: the
    /// other calls that were in flight when it was last cut.
    recovering: usize,
}

/// Builds an [`Aimd`]; made by [`Aimd::builder`].
///
/// Every setting has a default; `build` checks them all.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct AimdBuilder {
    initial_limit: usize,
    min_limit: usize,
    max_limit: usize,
    backoff_ratio: f64,
    increase: usize,
    timeout: Option<Duration>,
}

impl Aimd {
    /// The limit before any sample arrives, unless configured.
    pub const DEFAULT_INITIAL_LIMIT: usize = 20;
    /// The lowest limit, unless configured.
    pub const DEFAULT_MIN_LIMIT: usize = 1;
    /// The highest limit, unless configured.
    pub const DEFAULT_MAX_LIMIT: usize = 1000;
    /// The ratio a loss multiplies the limit by, unless configured.
    pub const DEFAULT_BACKOFF_RATIO: f64 = 0.9;
    /// The calls added per round trip without loss, unless configured.
    pub const DEFAULT_INCREASE: usize = 1;

    /// A builder with every setting at its default.
    pub fn builder() -> AimdBuilder {
        AimdBuilder {
            initial_limit: Self::DEFAULT_INITIAL_LIMIT,
            min_limit: Self::DEFAULT_MIN_LIMIT,
            max_limit: Self::DEFAULT_MAX_LIMIT,
            backoff_ratio: Self::DEFAULT_BACKOFF_RATIO,
            increase: Self::DEFAULT_INCREASE,
            timeout: None,
        }
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.publish()
    }

    fn publish(&self) -> usize {
        // The estimate is kept within min..=max, so the cast cannot wrap.
        (self.estimate.floor() as usize).clamp(self.config.min_limit, self.config.max_limit)
    }

    fn clamp(&self, estimate: f64) -> f64 {
        estimate.clamp(self.config.min_limit as f64, self.config.max_limit as f64)
    }
}

impl AimdBuilder {
    /// The limit before any sample arrives. Defaults to
    /// [`Aimd::DEFAULT_INITIAL_LIMIT`]; within `min_limit..=max_limit`.
    pub fn initial_limit(mut self, initial_limit: usize) -> Self {
        self.initial_limit = initial_limit;
        self
    }

    /// The lowest limit. Defaults to [`Aimd::DEFAULT_MIN_LIMIT`]; at least 1.
    pub fn min_limit(mut self, min_limit: usize) -> Self {
        self.min_limit = min_limit;
        self
    }

    /// The highest limit. Defaults to [`Aimd::DEFAULT_MAX_LIMIT`]; at least
    /// `min_limit`.
    pub fn max_limit(mut self, max_limit: usize) -> Self {
        self.max_limit = max_limit;
        self
    }

    /// The ratio a loss multiplies the limit by. Defaults to
    /// [`Aimd::DEFAULT_BACKOFF_RATIO`]; within `(0, 1)`.
    pub fn backoff_ratio(mut self, backoff_ratio: f64) -> Self {
        self.backoff_ratio = backoff_ratio;
        self
    }

    /// The calls added per round trip without loss. Defaults to
    /// [`Aimd::DEFAULT_INCREASE`]; at least 1.
    pub fn increase(mut self, increase: usize) -> Self {
        self.increase = increase;
        self
    }

    /// A call slower than `timeout` counts as lost, as a dropped one does.
    /// Unset by default: only dropped calls count. Must be greater than
    /// zero.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Checks every setting and builds the algorithm.
    pub fn build(self) -> Result<Aimd, InvalidConfig> {
        limits(self.min_limit, self.initial_limit, self.max_limit)?;
        ratio("backoff_ratio", self.backoff_ratio, 0.0, 1.0, false)?;
        at_least_one("increase", self.increase)?;
        if self.timeout == Some(Duration::ZERO) {
            return Err(InvalidConfig::new(
                "timeout",
                "timeout must be greater than zero, got 0s".to_owned(),
            ));
        }

        Ok(Aimd {
            estimate: self.initial_limit as f64,
            recovering: 0,
            config: self,
        })
    }
}

impl LimitAlgorithm for Aimd {
    fn initial_limit(&self) -> usize {
        self.config.initial_limit
    }

    fn update(&mut self, sample: &Sample) -> usize {
        let limit = self.publish();
        let too_slow = self
            .config
            .timeout
            .is_some_and(|timeout| sample.latency > timeout);
        let lost = sample.dropped || too_slow;

        // The calls in flight at a cut were admitted under the old limit,
        // and their losses are the same congestion: one cut per round trip.
        if self.recovering > 0 {
            self.recovering -= 1;
            if lost {
                return limit;
            }
        }

        if lost {
            self.estimate = self.clamp(self.estimate * self.config.backoff_ratio);
            self.recovering = limit.saturating_sub(1);
            return self.publish();
        }

        // Grow about `increase` calls per round trip, a round trip being
        // about `limit` samples, unless the service is app-limited.
        let app_limited = sample.in_flight.saturating_mul(2) < limit;
        if !app_limited {
            let step = self.config.increase as f64 / self.estimate;
            self.estimate = self.clamp(self.estimate + step);
        }
        self.publish()
    }

    fn name(&self) -> &'static str {
        "aimd"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(millis: u64, in_flight: usize, dropped: bool) -> Sample {
        Sample {
            latency: Duration::from_millis(millis),
            in_flight,
            dropped,
        }
    }

    #[test]
    fn adds_about_one_call_per_round_trip() {
        let mut aimd = Aimd::builder().initial_limit(20).build().unwrap();
        for _ in 0..21 {
            aimd.update(&sample(10, 20, false));
        }
        assert_eq!(aimd.limit(), 21);
    }

    #[test]
    fn cuts_once_per_round_trip_of_losses() {
        let mut aimd = Aimd::builder().initial_limit(100).build().unwrap();
        // A whole round trip of losses is one congestion event.
        for _ in 0..100 {
            aimd.update(&sample(10, 100, true));
        }
        assert_eq!(aimd.limit(), 90);
        // The next loss is a new event.
        assert_eq!(aimd.update(&sample(10, 90, true)), 81);
    }

    #[test]
    fn counts_slow_calls_as_loss_only_with_a_timeout() {
        let mut without = Aimd::builder().initial_limit(50).build().unwrap();
        assert_eq!(without.update(&sample(60_000, 50, false)), 50);

        let mut with = Aimd::builder()
            .initial_limit(50)
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        assert_eq!(with.update(&sample(100, 50, false)), 50);
        assert_eq!(with.update(&sample(101, 50, false)), 45);
    }

    #[test]
    fn does_not_grow_while_app_limited() {
        let mut aimd = Aimd::builder().initial_limit(100).build().unwrap();
        for _ in 0..10_000 {
            assert_eq!(aimd.update(&sample(10, 49, false)), 100);
        }
    }

    #[test]
    fn never_leaves_min_and_max() {
        let mut aimd = Aimd::builder()
            .min_limit(4)
            .initial_limit(8)
            .max_limit(10)
            .build()
            .unwrap();
        for _ in 0..1_000 {
            aimd.update(&sample(10, 10, false));
        }
        assert_eq!(aimd.limit(), 10);
        for _ in 0..1_000 {
            aimd.update(&sample(10, 10, true));
        }
        assert_eq!(aimd.limit(), 4);
    }

    #[test]
    fn rejects_out_of_range_settings() {
        let cases = [
            (Aimd::builder().min_limit(0).build(), "min_limit"),
            (
                Aimd::builder().min_limit(5).max_limit(4).build(),
                "max_limit",
            ),
            (Aimd::builder().initial_limit(0).build(), "initial_limit"),
            (Aimd::builder().backoff_ratio(1.0).build(), "backoff_ratio"),
            (Aimd::builder().backoff_ratio(0.0).build(), "backoff_ratio"),
            (Aimd::builder().increase(0).build(), "increase"),
            (Aimd::builder().timeout(Duration::ZERO).build(), "timeout"),
        ];
        for (result, field) in cases {
            assert_eq!(result.unwrap_err().field(), field);
        }
        let error = Aimd::builder().initial_limit(0).build().unwrap_err();
        assert_eq!(
            error.to_string(),
            "initial_limit must be within 1..=1000, got 0"
        );
    }
}

//! The gradient's settings and their checks.

use super::{Gradient, Proven, Slowdown, FIRST_PROBE_GAP, MAX_TOLERANCE};
use crate::limit::error::{at_least_one, limits, ratio, InvalidConfig};

/// Builds a [`Gradient`]; made by [`Gradient::builder`].
///
/// Every setting has a default; `build` checks them all.
///
/// ```
/// use seawall_shed::limit::Gradient;
///
/// let gradient = Gradient::builder()
///     .initial_limit(50)
///     .min_limit(4)
///     .max_limit(500)
///     .tolerance(1.5)
///     .build()?;
/// # let _ = gradient;
/// # Ok::<(), seawall_shed::limit::InvalidConfig>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct GradientBuilder {
    pub(super) initial_limit: usize,
    pub(super) min_limit: usize,
    pub(super) max_limit: usize,
    pub(super) tolerance: f64,
    pub(super) smoothing: f64,
    pub(super) headroom: f64,
    pub(super) min_ratio: f64,
    pub(super) short_window: usize,
    pub(super) long_window: usize,
    pub(super) probe_interval: usize,
}

impl GradientBuilder {
    /// The limit before any sample arrives. Defaults to
    /// [`Gradient::DEFAULT_INITIAL_LIMIT`]; within `min_limit..=max_limit`.
    pub fn initial_limit(mut self, initial_limit: usize) -> Self {
        self.initial_limit = initial_limit;
        self
    }

    /// The lowest limit. Defaults to [`Gradient::DEFAULT_MIN_LIMIT`]; at least 1.
    pub fn min_limit(mut self, min_limit: usize) -> Self {
        self.min_limit = min_limit;
        self
    }

    /// The highest limit. Defaults to [`Gradient::DEFAULT_MAX_LIMIT`]; at least
    /// `min_limit`.
    pub fn max_limit(mut self, max_limit: usize) -> Self {
        self.max_limit = max_limit;
        self
    }

    /// How many times the baseline the short-term latency may reach before
    /// the limit backs off. Defaults to [`Gradient::DEFAULT_TOLERANCE`]; within
    /// `1.0..=10.0`.
    ///
    /// It sets the concurrency the limit settles at (about `tolerance`
    /// times the service's ideal concurrency at most) and must exceed the
    /// short-term latency's noise, or noise reads as queueing.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The share of the way to its target the limit moves over one round
    /// trip's worth of samples. Defaults to [`Gradient::DEFAULT_SMOOTHING`]; within
    /// `(0, 1]`.
    pub fn smoothing(mut self, smoothing: f64) -> Self {
        self.smoothing = smoothing;
        self
    }

    /// The fraction of the limit a round trip without queueing aims to add;
    /// the limit grows by about `smoothing * headroom` per round trip.
    /// Defaults to [`Gradient::DEFAULT_HEADROOM`]; within `(0, 1]`.
    pub fn headroom(mut self, headroom: f64) -> Self {
        self.headroom = headroom;
        self
    }

    /// The deepest cut one sample aims for, as a ratio of the limit.
    /// Defaults to [`Gradient::DEFAULT_MIN_RATIO`]; within `(0, 1)`.
    pub fn min_ratio(mut self, min_ratio: f64) -> Self {
        self.min_ratio = min_ratio;
        self
    }

    /// The samples the short-term latency averages over. Defaults to
    /// [`Gradient::DEFAULT_SHORT_WINDOW`]; at least 1.
    pub fn short_window(mut self, short_window: usize) -> Self {
        self.short_window = short_window;
        self
    }

    /// The samples the baseline averages over when it moves at its slow
    /// pace. Defaults to [`Gradient::DEFAULT_LONG_WINDOW`]; greater than
    /// `short_window`.
    pub fn long_window(mut self, long_window: usize) -> Self {
        self.long_window = long_window;
        self
    }

    /// The round trips (of about `limit` samples each) between probes: a
    /// probe cuts the limit by `min_ratio` at once, so that latency at a
    /// lower concurrency corrects a baseline learned under queueing.
    /// Defaults to [`Gradient::DEFAULT_PROBE_INTERVAL`]; at least 1.
    pub fn probe_interval(mut self, probe_interval: usize) -> Self {
        self.probe_interval = probe_interval;
        self
    }

    /// Checks every setting and builds the algorithm.
    pub fn build(self) -> Result<Gradient, InvalidConfig> {
        limits(self.min_limit, self.initial_limit, self.max_limit)?;
        if self.tolerance.is_nan() || !(1.0..=MAX_TOLERANCE).contains(&self.tolerance) {
            return Err(InvalidConfig::new(
                "tolerance",
                format!(
                    "tolerance must be within [1, {MAX_TOLERANCE}], got {}",
                    self.tolerance
                ),
            ));
        }
        ratio("smoothing", self.smoothing, 0.0, 1.0, true)?;
        ratio("headroom", self.headroom, 0.0, 1.0, true)?;
        ratio("min_ratio", self.min_ratio, 0.0, 1.0, false)?;
        at_least_one("short_window", self.short_window)?;
        if self.long_window <= self.short_window {
            return Err(InvalidConfig::new(
                "long_window",
                format!(
                    "long_window must be greater than short_window ({}), got {}",
                    self.short_window, self.long_window
                ),
            ));
        }
        at_least_one("probe_interval", self.probe_interval)?;

        let short_weight = 2.0 / (self.short_window as f64 + 1.0);
        Ok(Gradient {
            short_weight,
            long_weight: 2.0 / (self.long_window as f64 + 1.0),
            noise_scale: Gradient::noise_scale(short_weight),
            estimate: self.initial_limit as f64,
            short: None,
            long: 0.0,
            count: 0,
            last: 0.0,
            spread: 0.0,
            since_probe: 0,
            probe_gap: FIRST_PROBE_GAP.min(self.probe_interval),
            long_at_probe: f64::INFINITY,
            probe_hold: 0,
            short_at_probe: None,
            proven: Proven::default(),
            untried_hold: 0,
            cuts: None,
            slowdown: Slowdown::None,
            config: self,
        })
    }
}

//! A latency-gradient limit: backs off when recent latency rises above the
//! service's baseline, grows while it does not.

use super::error::{at_least_one, limits, ratio, InvalidConfig};
use super::{LimitAlgorithm, Sample};

/// A single sample may raise the short-term latency as if it were at most
/// this many times the current short-term value.
const OUTLIER_CAP: f64 = 2.0;

/// The round trips before the first probe, and between probes while they
/// keep finding the baseline too high.
const FIRST_PROBE_GAP: usize = 4;

/// The shallowest probe, as a ratio of the limit.
const MAX_PROBE_RATIO: f64 = 0.9;

/// How many of the short-term latency's own standard deviations below the
/// baseline it must fall before the baseline follows it down (see the
/// module docs on noise).
const NOISE_MARGIN: f64 = 3.0;

/// The mean absolute difference between two independent draws of a
/// distribution, in standard deviations (about `2 / sqrt(pi)`, and close to
/// it for the uniform and other light-tailed noise).
const DIFF_PER_DEVIATION: f64 = 1.13;

/// Once the short window has filled, one difference between consecutive
/// samples counts for at most this many times the spread so far, so that a
/// shift in latency (a change of load, say) does not read as noise...
const SPREAD_CLIP: f64 = 4.0;

/// ... but always for at least this much (relative to the short-term
/// latency), so that a spread learned as zero can still grow.
const SPREAD_FLOOR: f64 = 0.002;

/// The highest tolerance accepted; beyond it the limit would let latency
/// grow tenfold before reacting.
const MAX_TOLERANCE: f64 = 10.0;

/// A limit learned from latency: it compares short-term latency with a
/// long-term baseline, backs off when the first rises above the second, and
/// grows while it does not.
///
/// See the [module docs](super#gradient) for the rules, the guardrails and
/// the concurrency it settles at.
///
/// ```
/// use std::time::Duration;
/// use seawall_shed::limit::{Gradient, LimitAlgorithm, Sample};
///
/// let mut gradient = Gradient::builder().initial_limit(40).build()?;
///
/// // Latency steady at 10 ms with the limit in use: no queueing, it grows.
/// let steady = Sample { latency: Duration::from_millis(10), in_flight: 40, dropped: false };
/// for _ in 0..100 {
///     gradient.update(&steady);
/// }
/// let grown = gradient.update(&steady);
/// assert!(grown > 40);
///
/// // Latency triples, calls now admitted under the falling limit: it
/// // backs off.
/// let mut limit = grown;
/// for _ in 0..100 {
///     let slow = Sample { latency: Duration::from_millis(30), in_flight: limit, dropped: false };
///     limit = gradient.update(&slow);
/// }
/// assert!(limit < grown / 2);
/// # Ok::<(), seawall_shed::limit::InvalidConfig>(())
/// ```
#[derive(Debug, Clone)]
pub struct Gradient {
    config: GradientBuilder,
    short_weight: f64,
    long_weight: f64,
    /// The limit as a real number; published rounded down.
    estimate: f64,
    /// Short-term latency in seconds; `None` before the first sample.
    short: Option<f64>,
    /// Long-term baseline latency in seconds.
    long: f64,
    /// Latency samples taken into the averages, saturating.
    count: u64,
    /// The last sample as it entered the short-term average, in seconds.
    last: f64,
    /// The mean absolute difference between consecutive samples, relative
    /// to the short-term latency: the latency's noise.
    spread: f64,
    /// Samples since the last probe.
    since_probe: usize,
    /// Round trips from the last probe to the next one.
    probe_gap: usize,
    /// The baseline when the last probe began.
    long_at_probe: f64,
    /// Samples still to come before the limit may grow after a probe.
    probe_hold: usize,
}

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
    initial_limit: usize,
    min_limit: usize,
    max_limit: usize,
    tolerance: f64,
    smoothing: f64,
    headroom: f64,
    min_ratio: f64,
    short_window: usize,
    long_window: usize,
    probe_interval: usize,
}

impl Gradient {
    /// The limit before any sample arrives, unless configured.
    pub const DEFAULT_INITIAL_LIMIT: usize = 20;
    /// The lowest limit, unless configured.
    pub const DEFAULT_MIN_LIMIT: usize = 1;
    /// The highest limit, unless configured.
    pub const DEFAULT_MAX_LIMIT: usize = 1000;
    /// How far above the baseline the short-term latency may rise before the
    /// limit backs off, unless configured.
    pub const DEFAULT_TOLERANCE: f64 = 1.1;
    /// The share of the way to its target the limit moves per round trip,
    /// unless configured.
    pub const DEFAULT_SMOOTHING: f64 = 0.5;
    /// The fraction of the limit a round trip without queueing aims to add,
    /// unless configured.
    pub const DEFAULT_HEADROOM: f64 = 0.1;
    /// The deepest single cut, as a ratio of the limit, unless configured.
    pub const DEFAULT_MIN_RATIO: f64 = 0.5;
    /// The samples the short-term latency averages over, unless configured.
    ///
    /// Long enough that calls within about 30% of each other, plus the odd
    /// outlier, do not read as queueing at the default tolerance; a longer
    /// window reacts more slowly. See the [limitations](super#limitations).
    pub const DEFAULT_SHORT_WINDOW: usize = 16;
    /// The samples the baseline averages over, unless configured.
    pub const DEFAULT_LONG_WINDOW: usize = 500;
    /// The round trips between probes, unless configured.
    pub const DEFAULT_PROBE_INTERVAL: usize = 100;

    /// A builder with every setting at its default.
    pub fn builder() -> GradientBuilder {
        GradientBuilder {
            initial_limit: Self::DEFAULT_INITIAL_LIMIT,
            min_limit: Self::DEFAULT_MIN_LIMIT,
            max_limit: Self::DEFAULT_MAX_LIMIT,
            tolerance: Self::DEFAULT_TOLERANCE,
            smoothing: Self::DEFAULT_SMOOTHING,
            headroom: Self::DEFAULT_HEADROOM,
            min_ratio: Self::DEFAULT_MIN_RATIO,
            short_window: Self::DEFAULT_SHORT_WINDOW,
            long_window: Self::DEFAULT_LONG_WINDOW,
            probe_interval: Self::DEFAULT_PROBE_INTERVAL,
        }
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.publish()
    }

    /// The short-term latency in seconds, once a sample has arrived.
    pub fn short_term_latency(&self) -> Option<f64> {
        self.short
    }

    /// The long-term baseline latency in seconds, once a sample has arrived.
    pub fn baseline_latency(&self) -> Option<f64> {
        self.short.map(|_| self.long)
    }

    /// Cuts the limit so that latency at a lower concurrency can correct
    /// the baseline; probes again soon if the last one found it too high,
    /// and ever more rarely, up to `probe_interval`, if not.
    fn probe(&mut self) {
        // Deep enough that a service which was queueing shows a latency
        // drop well beyond the tolerance.
        let tolerance = self.config.tolerance;
        let cut = (1.0 / (tolerance * tolerance)).min(MAX_PROBE_RATIO);

        // The last probe found the baseline too high if it fell since by
        // more than half the cut (on a log scale).
        let found = self.long < self.long_at_probe * cut.sqrt();
        self.probe_gap = if found {
            FIRST_PROBE_GAP.min(self.config.probe_interval)
        } else {
            self.probe_gap
                .saturating_mul(2)
                .min(self.config.probe_interval)
        };
        self.since_probe = 0;
        self.long_at_probe = self.long;

        let before = self.estimate as usize;
        let low = self.config.min_limit as f64;
        self.estimate = (self.estimate * cut).max(low);

        // Held while the calls admitted before the cut finish and then for
        // a round trip of calls admitted after it, so that both averages
        // see the lower concurrency.
        let after = self.estimate as usize;
        self.probe_hold = before + after.max(2 * self.config.short_window);
    }

    fn publish(&self) -> usize {
        // The estimate is kept within min..=max, so the cast cannot wrap.
        (self.estimate.floor() as usize).clamp(self.config.min_limit, self.config.max_limit)
    }

    /// Moves the estimate towards `target`, by `smoothing` of the way spread
    /// over about one round trip's worth of samples.
    fn step_towards(&mut self, target: f64) {
        let step = self.config.smoothing * (target - self.estimate) / self.estimate;
        let low = self.config.min_limit as f64;
        let high = self.config.max_limit as f64;
        self.estimate = (self.estimate + step).clamp(low, high);
    }
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

        Ok(Gradient {
            short_weight: 2.0 / (self.short_window as f64 + 1.0),
            long_weight: 2.0 / (self.long_window as f64 + 1.0),
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
            config: self,
        })
    }
}

impl LimitAlgorithm for Gradient {
    fn initial_limit(&self) -> usize {
        self.config.initial_limit
    }

    fn update(&mut self, sample: &Sample) -> usize {
        let config = &self.config;
        let limit = self.publish();

        // A drop is loss: its latency (often a timeout) says nothing about
        // the service, so it skips the averages and cuts as deeply as one
        // sample may.
        if sample.dropped {
            let target = self.estimate * config.min_ratio;
            self.step_towards(target);
            return self.publish();
        }

        // First, the short-term latency, with one sample's pull capped so a
        // single outlier cannot dominate it. Until its window fills, it is
        // the plain mean of the samples so far, so that the first sample's
        // noise does not linger.
        let latency = sample.latency.as_secs_f64();
        let Some(previous) = self.short else {
            self.short = Some(latency);
            self.long = latency;
            self.last = latency;
            self.count = 1;
            return limit;
        };
        self.count = self.count.saturating_add(1);
        let warm_up = 1.0 / self.count as f64;
        let short_weight = self.short_weight.max(warm_up);
        let capped = latency.min(previous * OUTLIER_CAP);
        let short = previous + short_weight * (capped - previous);
        self.short = Some(short);

        // The noise: how far apart consecutive samples are, relative to the
        // short-term latency, averaged at the long pace (a plain mean until
        // that window fills). Differences of consecutive samples, rather
        // than deviations from the average, so that a real shift in latency
        // counts once, not until the average has caught up with it; and
        // once the short window has filled, each is clipped, so that shifts
        // (a change of load) do not read as noise at all.
        let mut difference = (capped - self.last).abs() / previous.max(f64::MIN_POSITIVE);
        if self.count > config.short_window as u64 + 1 {
            difference = difference.min((SPREAD_CLIP * self.spread).max(SPREAD_FLOOR));
        }
        self.last = capped;
        let spread_weight = self.long_weight.max(1.0 / (self.count - 1) as f64);
        self.spread += spread_weight * (difference - self.spread);

        // Then the baseline, which equals the short-term latency until the
        // short window fills. It follows the short-term latency down at the
        // short pace, but only to within a margin of that average's noise,
        // so that it does not settle on the lowest dip noise ever gave it.
        // It follows it up, at the long pace, only on samples that carry
        // no queueing of the limit's making (see the module docs), so it
        // cannot drift upward while the limit holds the service at its
        // capacity.
        let app_limited = sample.in_flight.saturating_mul(2) < limit;
        let unqueued = app_limited || sample.in_flight <= config.min_limit;
        let deviation = self.spread / DIFF_PER_DEVIATION
            * (self.short_weight / (2.0 - self.short_weight)).sqrt();
        let floor = short * (1.0 + NOISE_MARGIN * deviation);
        if self.count <= config.short_window as u64 {
            self.long = short;
        } else if floor < self.long {
            self.long += short_weight * (floor - self.long);
        } else if unqueued {
            self.long += self.long_weight * (short - self.long);
        }

        // Last, the limit. Above tolerance it is cut in proportion; within
        // half the tolerance it grows; in between it holds. While the
        // service is app-limited it does neither: latency at a concurrency
        // well below the limit is not of the limit's making, and flat
        // latency there says nothing about higher load. Growth also waits
        // for a running probe.
        let long = self.long.max(f64::MIN_POSITIVE);
        let ratio_to_baseline = short / long;
        let grow_below = 1.0 + (config.tolerance - 1.0) / 2.0;
        if !app_limited {
            if ratio_to_baseline > config.tolerance {
                // Aimed at the middle of the band, not its edge, so that the
                // limit lands inside it rather than on the boundary.
                // The cut is sized by this call: the concurrency it saw and
                // its own latency. After a cut, calls admitted under the
                // older, higher limit still finish slow; sizing the cut of
                // the lower limit by their latency would cut twice for one
                // excess and undershoot the service's capacity.
                let own = (capped / long).max(1.0);
                let gradient = (grow_below / own).max(config.min_ratio);
                let target = (sample.in_flight as f64 * gradient).min(self.estimate);
                self.step_towards(target);
            } else if ratio_to_baseline <= grow_below && self.probe_hold == 0 {
                let target = self.estimate * (1.0 + config.headroom);
                self.step_towards(target);
            }
        }

        // Now and then, a probe: without it, a baseline first measured
        // while the service was already queueing would never learn better.
        self.probe_hold = self.probe_hold.saturating_sub(1);
        if !app_limited {
            self.since_probe += 1;
        }
        if self.since_probe >= self.probe_gap.saturating_mul(limit) {
            self.probe();
        }
        self.publish()
    }

    fn name(&self) -> &'static str {
        "gradient"
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn sample(millis: u64, in_flight: usize) -> Sample {
        Sample {
            latency: Duration::from_millis(millis),
            in_flight,
            dropped: false,
        }
    }

    /// Feeds `count` samples at the current limit, all of latency `millis`.
    fn feed(gradient: &mut Gradient, millis: u64, count: usize) -> usize {
        let mut limit = gradient.limit();
        for _ in 0..count {
            limit = gradient.update(&sample(millis, limit));
        }
        limit
    }

    #[test]
    fn never_leaves_min_and_max() {
        let mut gradient = Gradient::builder()
            .min_limit(5)
            .initial_limit(10)
            .max_limit(30)
            .build()
            .unwrap();
        assert_eq!(feed(&mut gradient, 10, 10_000), 30);

        // A hundredfold slowdown drives it to the minimum and no lower.
        // (Held there, the baseline relearns the new latency, so the limit
        // later climbs again; see `relearns_a_lasting_slowdown_at_the_minimum`.)
        let mut lowest = usize::MAX;
        for _ in 0..2_000 {
            let limit = gradient.limit();
            lowest = lowest.min(gradient.update(&sample(1_000, limit)));
        }
        assert_eq!(lowest, 5);
    }

    #[test]
    fn relearns_a_lasting_slowdown_at_the_minimum() {
        let mut gradient = Gradient::builder().initial_limit(50).build().unwrap();
        feed(&mut gradient, 10, 100);

        // Every call is now three times slower whatever the concurrency:
        // backing off cannot help. At the minimum there is no queueing of
        // the limit's making, so the baseline takes the new latency.
        let mut lowest = usize::MAX;
        for _ in 0..5_000 {
            let limit = gradient.limit();
            lowest = lowest.min(gradient.update(&sample(30, limit)));
        }
        assert_eq!(lowest, 1);
        let baseline = gradient.baseline_latency().unwrap();
        assert!(baseline > 0.027, "{baseline}");
        assert!(gradient.limit() > 10, "{}", gradient.limit());
    }

    #[test]
    fn does_not_grow_while_app_limited() {
        let mut gradient = Gradient::builder().initial_limit(100).build().unwrap();
        for _ in 0..10_000 {
            // 49 in flight is under half the limit of 100.
            assert_eq!(gradient.update(&sample(10, 49)), 100);
        }
        // At half the limit it is no longer app-limited, and grows.
        for _ in 0..100 {
            gradient.update(&sample(10, 50));
        }
        assert!(gradient.limit() > 100);
    }

    /// A small deterministic generator: numbers uniform in `0..1`.
    fn lcg(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn app_limited_latency_neither_grows_nor_cuts_the_limit() {
        let mut gradient = Gradient::builder().initial_limit(18).build().unwrap();

        // One or two calls at a time against a limit of 18, each taking
        // 50 us within 30%, and one in about thirty three times as long
        // again: the noise of a no-op service, relative to its size.
        let mut state = 1;
        for index in 0..20_000 {
            let mut micros = 50.0 * (0.7 + 0.6 * lcg(&mut state));
            if lcg(&mut state) < 0.03 {
                micros *= 3.0;
            }
            let noisy = Sample {
                latency: Duration::from_secs_f64(micros / 1e6),
                in_flight: 1 + index % 2,
                dropped: false,
            };
            assert_eq!(gradient.update(&noisy), 18, "sample {index}");
        }

        // Nor does a lasting slowdown at that load cut it: the baseline
        // learns it, at the long pace, as latency without queueing.
        let before = gradient.baseline_latency().unwrap();
        for _ in 0..2_000 {
            let slow = Sample {
                latency: Duration::from_micros(200),
                in_flight: 1,
                dropped: false,
            };
            assert_eq!(gradient.update(&slow), 18);
        }
        assert!(gradient.baseline_latency().unwrap() > 3.0 * before);

        // Drops are loss, app-limited or not.
        let dropped = Sample {
            dropped: true,
            ..sample(10, 1)
        };
        assert!(gradient.update(&dropped) < 18);
    }

    #[test]
    fn noise_does_not_drag_the_baseline_down() {
        // The limit in use, latency flat at 10 ms whatever the concurrency
        // but each call within 30% of it: nothing to back off from. Without
        // the noise margin the baseline would settle on the lowest dips of
        // the short-term average, read the mean as queueing and cut.
        let mut gradient = Gradient::builder().initial_limit(100).build().unwrap();
        let mut state = 11;
        let mut lowest = usize::MAX;
        for _ in 0..200_000 {
            let limit = gradient.limit();
            let noisy = Sample {
                latency: Duration::from_millis(10).mul_f64(0.7 + 0.6 * lcg(&mut state)),
                in_flight: limit,
                dropped: false,
            };
            lowest = lowest.min(gradient.update(&noisy));
        }
        // Measured: a baseline of 9.5 ms, and the limit at its maximum;
        // without the margin, 9.0 ms and a limit collapsed to 1 and 3.
        let baseline = gradient.baseline_latency().unwrap();
        assert!(baseline > 0.0093, "{baseline}");
        assert!(lowest > 1, "{lowest}");
        assert_eq!(gradient.limit(), Gradient::DEFAULT_MAX_LIMIT);
    }

    #[test]
    fn counts_drops_as_loss() {
        let mut gradient = Gradient::builder().initial_limit(100).build().unwrap();
        feed(&mut gradient, 10, 1);
        let baseline = gradient.baseline_latency();

        let dropped = Sample {
            dropped: true,
            ..sample(10, 100)
        };
        for _ in 0..40 {
            gradient.update(&dropped);
        }
        // Each drop aims at half the limit, by `smoothing / limit` of the
        // way: about a quarter of a call each.
        assert!(
            (88..=92).contains(&gradient.limit()),
            "{}",
            gradient.limit()
        );
        assert_eq!(gradient.baseline_latency(), baseline);
    }

    #[test]
    fn one_outlier_does_not_collapse_the_limit() {
        let mut gradient = Gradient::builder().initial_limit(100).build().unwrap();
        let before = feed(&mut gradient, 10, 50);

        // One call a thousand times slower than the rest.
        gradient.update(&sample(10_000, before));
        let after = feed(&mut gradient, 10, 50);
        assert!(after * 100 >= before * 98, "{before} -> {after}");
    }

    #[test]
    fn baseline_does_not_rise_while_the_limit_is_in_use() {
        let mut gradient = Gradient::builder().initial_limit(100).build().unwrap();
        feed(&mut gradient, 10, 100);
        let baseline = gradient.baseline_latency().unwrap();

        // A long incident at three times the latency, every sample taken
        // with the limit in use and above the minimum.
        let mut highest_after_backoff = 0;
        for index in 0..200_000 {
            let limit = gradient.update(&sample(30, gradient.limit().max(2)));
            if index > 1_000 {
                highest_after_backoff = highest_after_backoff.max(limit);
            }
        }
        assert_eq!(gradient.baseline_latency(), Some(baseline));
        assert!(
            highest_after_backoff <= 2,
            "crept up to {highest_after_backoff}"
        );

        // Latency back to normal: it grows again.
        feed(&mut gradient, 10, 1_000);
        assert!(gradient.limit() > 10, "{}", gradient.limit());
    }

    #[test]
    fn baseline_falls_fast_and_rises_slowly_when_unqueued() {
        let mut gradient = Gradient::builder().initial_limit(100).build().unwrap();
        feed(&mut gradient, 20, 10);

        // Lower latency is adopted within a few short windows.
        feed(&mut gradient, 10, 50);
        let baseline = gradient.baseline_latency().unwrap();
        assert!(baseline < 0.0105, "{baseline}");

        // Higher latency on app-limited samples moves it at the long pace.
        for _ in 0..50 {
            gradient.update(&sample(20, 10));
        }
        let risen = gradient.baseline_latency().unwrap();
        assert!(risen > baseline && risen < 0.0125, "{risen}");
    }

    #[test]
    fn probes_correct_a_baseline_learned_under_queueing() {
        // Started while the service was queueing: 20 in flight at 20 ms,
        // where 10 in flight would take 10 ms.
        let latency = |in_flight: usize| 10 * in_flight.max(10) as u64 / 10;
        let mut gradient = Gradient::builder().build().unwrap();
        let mut limit = gradient.limit();
        for _ in 0..2_000 {
            limit = gradient.update(&sample(latency(limit), limit));
        }
        let baseline = gradient.baseline_latency().unwrap();
        assert!(baseline < 0.0115, "{baseline}");
    }

    #[test]
    fn rejects_out_of_range_settings() {
        let cases = [
            (Gradient::builder().min_limit(0).build(), "min_limit"),
            (Gradient::builder().max_limit(0).build(), "max_limit"),
            (
                Gradient::builder().initial_limit(2_000).build(),
                "initial_limit",
            ),
            (Gradient::builder().tolerance(0.9).build(), "tolerance"),
            (Gradient::builder().tolerance(f64::NAN).build(), "tolerance"),
            (Gradient::builder().smoothing(0.0).build(), "smoothing"),
            (Gradient::builder().headroom(1.5).build(), "headroom"),
            (Gradient::builder().min_ratio(1.0).build(), "min_ratio"),
            (Gradient::builder().short_window(0).build(), "short_window"),
            (Gradient::builder().long_window(16).build(), "long_window"),
            (
                Gradient::builder().probe_interval(0).build(),
                "probe_interval",
            ),
        ];
        for (result, field) in cases {
            assert_eq!(result.unwrap_err().field(), field);
        }
        let error = Gradient::builder().min_ratio(1.0).build().unwrap_err();
        assert_eq!(error.to_string(), "min_ratio must be within (0, 1), got 1");
        let error = Gradient::builder().long_window(16).build().unwrap_err();
        assert_eq!(
            error.to_string(),
            "long_window must be greater than short_window (16), got 16"
        );
    }
}

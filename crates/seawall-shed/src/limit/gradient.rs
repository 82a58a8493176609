//! A latency-gradient limit: backs off when recent latency rises above the
//! service's baseline, grows while it does not.

use super::{LimitAlgorithm, Sample};

mod builder;
mod proven;
mod relearn;
#[cfg(test)]
mod tests;

pub use builder::GradientBuilder;
use proven::Proven;
use relearn::{Cuts, Slowdown};

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

/// How far above the concurrency lately proven the limit must be for the
/// part above to count as untried and be cut at once.
const UNTRIED_MARGIN: f64 = 1.5;

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
/// // The service now serves 10 calls at once and queues the rest: latency
/// // grows with the calls in flight, and the limit backs off towards 10.
/// let mut limit = grown;
/// for _ in 0..300 {
///     let queued = Duration::from_millis(10).mul_f64((limit as f64 / 10.0).max(1.0));
///     limit = gradient.update(&Sample { latency: queued, in_flight: limit, dropped: false });
/// }
/// assert!(limit < grown / 2);
/// # Ok::<(), seawall_shed::limit::InvalidConfig>(())
/// ```
#[derive(Debug, Clone)]
pub struct Gradient {
    config: GradientBuilder,
    short_weight: f64,
    long_weight: f64,
    /// How far above the short-term latency, per unit of spread, the
    /// baseline stays when it follows that latency down: the noise margin
    /// in the short-term average's own standard deviations (see the module
    /// docs on noise). A constant of the windows, worked out once.
    noise_scale: f64,
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
    /// The short-term latency when the running probe began; `None` when no
    /// probe awaits its verdict.
    short_at_probe: Option<f64>,
    /// The concurrency lately seen to keep latency within tolerance.
    proven: Proven,
    /// Samples still to come, after the untried part of the limit was cut,
    /// from calls admitted before: they hold further cuts.
    untried_hold: usize,
    /// The run of cuts under way, until the limit grows back past it.
    cuts: Option<Cuts>,
    /// Whether the baseline was last set by a slowdown, and whether that
    /// has ended (see `relearn.rs`).
    slowdown: Slowdown,
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

    fn publish(&self) -> usize {
        // The estimate is kept within min..=max, never negative, so the
        // cast rounds it down and cannot wrap.
        (self.estimate as usize).clamp(self.config.min_limit, self.config.max_limit)
    }

    /// The noise margin per unit of spread: `NOISE_MARGIN` standard
    /// deviations of the short-term average, where the spread is
    /// `DIFF_PER_DEVIATION` of the samples' standard deviation and an
    /// exponential average of weight `w` over independent samples has
    /// `w / (2 - w)` of their variance.
    pub(super) fn noise_scale(short_weight: f64) -> f64 {
        NOISE_MARGIN / DIFF_PER_DEVIATION * (short_weight / (2.0 - short_weight)).sqrt()
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
        // The plain mean weighs the next sample 1 / count; the division is
        // only worked out while that is more than the window's weight.
        let count = self.count as f64;
        let short_weight = if count * self.short_weight < 1.0 {
            self.short_weight.max(1.0 / count)
        } else {
            self.short_weight
        };
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
        let pairs = count - 1.0;
        let spread_weight = if pairs * self.long_weight < 1.0 {
            self.long_weight.max(1.0 / pairs)
        } else {
            self.long_weight
        };
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
        let floor = short * (1.0 + self.spread * self.noise_scale);
        if self.count <= config.short_window as u64 {
            self.long = short;
        } else if floor < self.long {
            self.long += short_weight * (floor - self.long);
            self.note_fall();
        } else if unqueued {
            self.long += self.long_weight * (short - self.long);
        }

        // A run of cuts that finds latency deaf to concurrency moves the
        // baseline up to it.
        let mut per_long = 1.0 / self.long.max(f64::MIN_POSITIVE);
        if !app_limited && self.watch_cuts(sample.in_flight, capped, short * per_long) {
            per_long = 1.0 / self.long.max(f64::MIN_POSITIVE);
        }
        let config = &self.config;

        // The concurrency the service has lately carried without queueing,
        // by calls whose own latency stayed within tolerance.
        let own = (capped * per_long).max(1.0);
        let within = own <= config.tolerance;
        self.proven
            .record(within.then_some(sample.in_flight), config.long_window);

        // Last, the limit. Above tolerance it is cut in proportion; within
        // half the tolerance it grows; in between it holds. While the
        // service is app-limited it does neither: latency at a concurrency
        // well below the limit is not of the limit's making, and flat
        // latency there says nothing about higher load. Growth also waits
        // for a running probe.
        let ratio_to_baseline = short * per_long;
        let grow_below = 1.0 + (config.tolerance - 1.0) / 2.0;
        if !app_limited {
            if ratio_to_baseline > config.tolerance && self.untried_hold > 0 {
                // Calls admitted under an untried limit just cut, still
                // finishing: they queued behind one another, not behind the
                // limit in force now.
            } else if ratio_to_baseline > config.tolerance {
                // Aimed at the middle of the band, not its edge, so that the
                // limit lands inside it rather than on the boundary.
                // The cut is sized by this call: the concurrency it saw and
                // its own latency. After a cut, calls admitted under the
                // older, higher limit still finish slow; sizing the cut of
                // the lower limit by their latency would cut twice for one
                // excess and undershoot the service's capacity.
                let gradient = (grow_below / own).max(config.min_ratio);
                let target = (sample.in_flight as f64 * gradient).min(self.estimate);

                // The cut is smoothed over round trips, so that noise does
                // not swing the limit. But the part of a limit well above
                // any concurrency lately carried without queueing has never
                // been tried (the limit was held while the service was
                // app-limited, say): it goes at once, before more calls
                // queue under it. The slot above the proven concurrency
                // stays, as the estimate's fraction is never in use.
                let tried = self.proven.get() as f64 + 1.0;
                if self.estimate > tried * UNTRIED_MARGIN {
                    self.untried_hold = self.estimate as usize;
                    self.estimate = tried.max(target);
                    // Latency is known at the concurrency cut to, as a
                    // probe would have shown it: the next probe can wait.
                    self.since_probe = 0;
                    self.long_at_probe = self.long;
                }
                self.step_towards(target);
            } else if ratio_to_baseline <= grow_below && self.probe_hold == 0 {
                let target = self.estimate * (1.0 + config.headroom);
                self.step_towards(target);
            }
        }

        // Now and then, a probe: without it, a baseline first measured
        // while the service was already queueing would never learn better.
        self.probe_hold = self.probe_hold.saturating_sub(1);
        if self.probe_hold == 0 {
            if let Some(before) = self.short_at_probe.take() {
                self.settle_probe(before, short);
            }
        }
        self.untried_hold = self.untried_hold.saturating_sub(1);
        if !app_limited {
            self.since_probe += 1;
        }
        if self.slowdown == Slowdown::Ended
            || self.since_probe >= self.probe_gap.saturating_mul(limit)
        {
            self.probe();
        }
        self.publish()
    }

    fn name(&self) -> &'static str {
        "gradient"
    }
}

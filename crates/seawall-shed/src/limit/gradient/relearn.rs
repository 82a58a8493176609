//! The experiments that relearn the baseline: probes, which cut the limit
//! now and then to see latency at a lower concurrency, and runs of cuts,
//! watched for latency that does not fall with the concurrency.
//!
//! Both tell queueing (latency that falls when the concurrency does) from
//! a baseline that is wrong: one dragged below the latency by noise, or one
//! left behind by a slower service. See the [module docs](super::super#gradient).

use super::{Gradient, FIRST_PROBE_GAP, MAX_PROBE_RATIO, NOISE_MARGIN};

/// Whether the baseline was last set by a slowdown (see
/// [`Gradient::watch_cuts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Slowdown {
    /// No.
    #[default]
    None,
    /// Yes: its end brings a probe.
    Taken,
    /// Yes, and it has ended: a probe is due now.
    Ended,
}

/// A run of cuts, watched for latency that does not fall with the
/// concurrency: the latency was not queueing but a slower service.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cuts {
    /// The concurrency when latency first rose above tolerance.
    from: usize,
    /// Latency of the calls admitted since, until the concurrency fell.
    before: Mean,
    /// Latency of the calls admitted in a row at the lower concurrency.
    after: Mean,
}

/// A plain running mean.
#[derive(Debug, Clone, Copy, Default)]
struct Mean {
    sum: f64,
    count: usize,
}

impl Mean {
    fn of(value: f64) -> Self {
        Mean {
            sum: value,
            count: 1,
        }
    }

    fn add(&mut self, value: f64) {
        self.sum += value;
        self.count += 1;
    }

    fn get(&self) -> f64 {
        self.sum / self.count.max(1) as f64
    }
}

impl Gradient {
    /// Cuts the limit so that latency at a lower concurrency can correct
    /// the baseline; probes again soon if the last one found it too high,
    /// and ever more rarely, up to `probe_interval`, if not.
    pub(super) fn probe(&mut self) {
        let cut = self.probe_cut();

        // The last probe found the baseline too high if it fell since; a
        // probe that follows a slowdown's end has found it so.
        let found = self.slowdown == Slowdown::Ended || self.fell(self.long_at_probe, self.long);
        if self.slowdown == Slowdown::Ended {
            self.slowdown = Slowdown::None;
        }
        self.probe_gap = if found {
            FIRST_PROBE_GAP.min(self.config.probe_interval)
        } else {
            self.probe_gap
                .saturating_mul(2)
                .min(self.config.probe_interval)
        };
        self.since_probe = 0;
        self.long_at_probe = self.long;
        self.short_at_probe = self.short;

        let before = self.estimate as usize;
        let low = self.config.min_limit as f64;
        self.estimate = (self.estimate * cut).max(low);

        // Held while the calls admitted before the cut finish and then for
        // a round trip of calls admitted after it, so that both averages
        // see the lower concurrency.
        let after = self.estimate as usize;
        self.probe_hold = before + after.max(2 * self.config.short_window);
    }

    /// The ratio a probe cuts the limit by: deep enough that a service
    /// which was queueing shows a latency drop well beyond the tolerance.
    pub(super) fn probe_cut(&self) -> f64 {
        let tolerance = self.config.tolerance;
        (1.0 / (tolerance * tolerance)).min(MAX_PROBE_RATIO)
    }

    /// Whether latency went from `before` to `after` by a fall of more than
    /// half a probe's cut, on a log scale: what queueing does when the
    /// concurrency falls by the cut, and what a slower service does not.
    fn fell(&self, before: f64, after: f64) -> bool {
        after < before * self.probe_cut().sqrt()
    }

    /// Notes the baseline falling: if a slowdown it had taken on has ended
    /// (the baseline fell by a probe's cut since), it followed the latency
    /// down to what it is at the limit of the slowdown, which may hold
    /// queueing now, so a probe is due at once.
    pub(super) fn note_fall(&mut self) {
        if self.slowdown == Slowdown::Taken && self.long < self.long_at_probe * self.probe_cut() {
            self.slowdown = Slowdown::Ended;
        }
    }

    /// Ends a probe, given the short-term latency before its cut and now,
    /// after a round trip at the lower concurrency.
    ///
    /// Latency that did not fall with the concurrency (by less than half
    /// the cut, on a log scale) was not queueing: the baseline below it had
    /// been dragged down by noise, and rises to the lower of the two, less
    /// one standard deviation of the short-term average (a baseline at the
    /// mean would read every upward swing of that average as queueing, and
    /// settle the limit above the service's capacity). It rises only if the
    /// latency before the probe was within tolerance of it, so by at most
    /// the tolerance per probe, and never while the limit was being cut for
    /// queueing, as it is through an incident.
    pub(super) fn settle_probe(&mut self, before: f64, after: f64) {
        let fell = self.fell(before, after);
        let deviation = self.spread * self.noise_scale / NOISE_MARGIN;
        let level = before.min(after) / (1.0 + deviation);
        if !fell && before <= self.long * self.config.tolerance && level > self.long {
            self.long = level;
        }
    }

    /// Watches a run of cuts for a slower service, which they cannot help.
    ///
    /// Once the concurrency has fallen by a probe's cut since latency first
    /// rose above tolerance, and a round trip of calls admitted at the lower
    /// concurrency has finished, latency that is still above tolerance and
    /// did not fall with the concurrency (by less than half the cut, on a
    /// log scale) is not queueing: cutting further would only shed more,
    /// down to `min_limit`. The baseline takes the latency at the lower
    /// concurrency. Queueing falls with the concurrency, so it never raises
    /// the baseline this way; the run ends when the limit grows back past
    /// where it began.
    ///
    /// The latencies compared are plain means of the samples (as they
    /// entered the short-term average) at the old and at the lower
    /// concurrency, which carry less noise than that average and no lag.
    /// Returns whether the baseline moved.
    pub(super) fn watch_cuts(&mut self, in_flight: usize, latency: f64, ratio: f64) -> bool {
        let cut = self.probe_cut();
        let cuts = match &mut self.cuts {
            // The limit grew back: the run of cuts is over.
            Some(cuts) if in_flight > cuts.from => {
                self.cuts = None;
                return false;
            }
            Some(cuts) => cuts,
            None if ratio > self.config.tolerance => {
                self.cuts = Some(Cuts {
                    from: in_flight,
                    before: Mean::of(latency),
                    after: Mean::default(),
                });
                return false;
            }
            None => return false,
        };
        if in_flight as f64 > cuts.from as f64 * cut {
            // Not lower yet, or higher again: the lower run starts over.
            cuts.before.add(latency);
            cuts.after = Mean::default();
            return false;
        }
        cuts.after.add(latency);
        if cuts.after.count < 2 * self.config.short_window {
            return false;
        }
        let (before, after) = (cuts.before.get(), cuts.after.get());
        self.cuts = None;
        if self.fell(before, after) || after <= self.long * self.config.tolerance {
            return false;
        }
        self.long = after;
        // Judged against it: the next probe, and the slowdown's end.
        self.long_at_probe = after;
        self.slowdown = Slowdown::Taken;
        true
    }
}

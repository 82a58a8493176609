//! Concurrency limit algorithms.
//!
//! An algorithm is a plain value that turns samples of finished calls into a
//! concurrency limit. It knows nothing of services, clocks or threads: the
//! shared limiter owns one behind a lock, feeds it one [`Sample`] per
//! finished call and publishes the limit it returns. Every algorithm here
//! does a constant amount of work per sample and allocates nothing after it
//! is built.
//!
//! | algorithm | learns from | use it for |
//! |---|---|---|
//! | [`Gradient`] (the default) | latency against a baseline, and drops | servers: shed before a queue builds |
//! | [`Aimd`] | drops and calls slower than a timeout | clients: back off when the far side refuses or times out |
//! | [`Fixed`] | nothing | a known, stable capacity; tests |
//!
//! Each is configured through a builder (or, for [`Fixed`], a constructor)
//! that checks every setting and returns [`InvalidConfig`] naming the one
//! at fault and its allowed range.
//!
//! # Gradient
//!
//! The service's *ideal concurrency* is the largest number of calls it can
//! serve at once without queueing: below it, latency stays at its base and
//! throughput grows with concurrency; above it, throughput stays flat and,
//! by Little's law (calls in flight = throughput x latency), every extra
//! call in flight only adds latency. [`Gradient`] looks for that knee from
//! latency alone. It keeps two averages:
//!
//! - the **short-term latency**, an exponentially weighted average over
//!   about `short_window` samples (default 16), and
//! - the **baseline**, the latency the service shows when it is not queueing.
//!
//! Until `short_window` samples have arrived, the short-term latency is the
//! plain mean of the samples so far and the baseline equals it.
//!
//! Per sample, with `ratio = short / baseline` and tolerance `t` (default
//! 1.1):
//!
//! - `ratio > t`: queueing. The limit aims at
//!   `limit * max((1 + t) / 2 / ratio, min_ratio)`, the concurrency at which
//!   latency would sit in the middle of the band.
//! - `ratio <= (1 + t) / 2`: no queueing seen. The limit aims at
//!   `limit * (1 + headroom)`.
//! - in between: the limit holds.
//!
//! Neither rule applies while the service is app-limited (below): then
//! only drops move the limit.
//!
//! The limit moves towards its aim by `smoothing / limit` of the way per
//! sample, so over one round trip (about `limit` samples) it moves
//! `smoothing` of the way (default 0.5): growth is about
//! `smoothing * headroom` = 5% per round trip, and one sample can move the
//! limit by at most a fraction of a call.
//!
//! **What it converges to.** For a service that serves `C` calls at once in
//! time `S` and queues the rest (latency `S * n / C` for `n > C`), the
//! ratio is `n / C` above the knee and 1 below it. The limit grows while
//! `n <= C * (1 + t) / 2`, is cut back towards that point when `n > C * t`,
//! and holds in between. A cut is sized by the call that asks for it: its
//! target is the concurrency that call saw, scaled by its own latency
//! against the baseline (Little's law read backwards), never above the
//! limit now. Sizing it from the current limit instead cut twice for one
//! excess: calls admitted under the older, higher limit finish slow after
//! the first cut too, and undershot the service's capacity (in the overload
//! experiment, goodput at twice the capacity rose from 92% to 99% with
//! this rule). The limit settles between `C` and `t * C`, near
//! `C * (1 + t) / 2` (5% above `C` with the defaults, for a little queueing
//! rather than idle capacity). The `convergence` tests check it stays within
//! 10% of `C` for `C` = 10, 50 and 200, both with exact latency and with
//! every call's latency scaled by noise (uniform within 30%, and that plus
//! one call in fifty three times slower): with noise, 88% to 96% of round
//! trips end within 10% of `C` (the lowest share at `C` = 10, where one call
//! is 10%), the limit never falls below 0.7 `C`, and after 3,000,000
//! samples the share still holds. A larger tolerance
//! absorbs noisier latency at the cost of a higher settling point and more
//! queueing.
//!
//! Guardrails:
//!
//! - **Minimum and maximum.** The limit stays within
//!   `min_limit..=max_limit` (defaults 1 and 1000; initial limit 20).
//! - **Latency does not move an app-limited limit.** A sample whose call
//!   was admitted with fewer than half the limit in flight
//!   (`in_flight * 2 < limit`) neither grows the limit nor cuts it on
//!   latency; only a drop cuts it. Flat latency at low load says nothing
//!   about higher load, and high latency at a concurrency well below the
//!   limit is not of the limit's making: the limit is not what holds the
//!   load back, and cutting it would shed nothing until it fell below the
//!   load itself. (Cutting on such samples let noise alone walk the limit down:
//!   with one call at a time against a noisy service the limit fell from 18
//!   to 7, and to 1 with two callers, shedding the second.) The sample
//!   still counts towards the baseline, as latency without queueing of the
//!   limit's making, and does not count towards the next probe. Once load
//!   reaches half the limit, the rules above apply again.
//! - **Drops are loss.** A dropped sample (timed out, or refused as
//!   overloaded upstream) aims the limit at `limit * min_ratio` and is kept
//!   out of both averages, since a timeout's latency is the timeout's.
//! - **One outlier cannot collapse the limit.** A sample enters the
//!   short-term average capped at twice its current value, so a single call
//!   a thousand times slower moves it as little as one twice as slow; a
//!   real shift still shows within a dozen samples.
//! - **Noise does not drag the baseline down.** The baseline may only fall
//!   while the limit is in use (next rule), so if it followed every dip of
//!   the short-term average it would settle on the lowest one noise ever
//!   gave, read the mean latency as queueing and walk the limit to its
//!   minimum. So it follows the short-term latency down only to within a
//!   margin of that average's own noise: three of its standard deviations,
//!   estimated from the mean difference between consecutive samples (over
//!   `long_window` samples, each difference clipped at four times the
//!   running mean, so that a real shift in latency is not taken for
//!   noise). With latency that does not vary, the margin is zero. Over a
//!   long run ever deeper dips still come along and drag it lower (in the
//!   simulations, to 6% below the mean within 2,500,000 samples, where the
//!   limit slid from `C` to 1), so probes raise it again (below).
//! - **The baseline cannot drift upward during an incident.** It follows the
//!   short-term latency *down* at the short-term pace, but *up* only, at the
//!   slow pace of `long_window` samples (default 500), on samples that carry
//!   no queueing of the limit's own making: app-limited ones, and ones
//!   admitted with no more than `min_limit` in flight. While demand keeps the
//!   limit in use, only a probe that finds latency deaf to concurrency
//!   raises it, and only when the latency was within tolerance of it (so
//!   not while it is being cut for queueing), by at most the tolerance per
//!   probe. A long incident cannot teach the limit that high latency is
//!   normal, and when it ends the old baseline is still there to recover
//!   to.
//!   If latency rises for a reason concurrency cannot fix, the next rule
//!   applies.
//! - **A slowdown is not queueing.** Latency that rises because a
//!   dependency got slower does not fall when the limit does, and cutting
//!   on it would take the limit to `min_limit` and keep it there (before
//!   this rule, a service twice as slow at any concurrency held the limit
//!   at 1 for the whole slowdown and 140 round trips after it). So the
//!   gradient watches each run of cuts: once the concurrency is a probe's
//!   cut below where latency first rose above tolerance, and a round trip
//!   of calls admitted there has finished, latency still above tolerance
//!   that did not fall with the concurrency (by less than half the cut, on
//!   a log scale) becomes the baseline, and the limit climbs back to what
//!   the slower service carries. The two latencies compared are plain means
//!   of the calls at either concurrency. Queueing falls with the
//!   concurrency, so an incident of overload never raises the baseline this
//!   way. When the slowdown ends, the baseline follows latency down to what
//!   it is at the limit of the time, which may hold queueing, so a probe
//!   follows at once.
//! - **An untried limit goes at once.** The cut above is smoothed over
//!   round trips so that noise cannot swing the limit, but that is too
//!   slow for a limit that was never in use: one held at its initial value
//!   through an app-limited spell, when load then jumps past capacity.
//!   Every call admitted under it queues while the smoothed cut catches up.
//!   So the algorithm keeps the highest concurrency lately carried without
//!   queueing (the `in_flight` of samples whose own latency stayed within
//!   tolerance, over the last one or two `long_window`s of samples); when a
//!   cut is due and the limit is more than 1.5 times that plus one, the
//!   limit drops at once to that plus one (or to the cut's aim, if higher),
//!   and the smoothed cut goes on from there. The calls admitted under the
//!   old limit still finish slow, having queued behind one another, so
//!   for as many samples as that limit allowed they do not cut it again,
//!   and the next probe waits, since the cut has just shown the latency a
//!   probe would. A limit in use is always within that margin, so noise
//!   sees only the smoothed cut. In the overload experiment this took the
//!   jump from 1x to 2x capacity from some 60 ms of queueing to under
//!   20 ms (see `docs/benchmarks.md`).
//! - **Probes.** A baseline first measured while the service was already
//!   queueing (a restart under load) would otherwise never learn better, so
//!   now and then the limit is cut at once to `limit / t^2` (at most 0.9 of
//!   it) and held there for a round trip; if latency falls with it, the
//!   baseline follows. If it does not fall (by less than half the cut, on
//!   a log scale), the latency before was not queueing, and a baseline
//!   below it was dragged there by noise: it rises to the lower of the
//!   latencies before and after the cut, less one standard deviation of
//!   the short-term average, so that the limit settles near `C` rather than
//!   above it. In two simulated runs of 20,000,000 samples of latency
//!   within 30%, checked every 2,000,000, the baseline then stayed within
//!   4% of the mean, 87% to 97% of round trips ended within 10% of `C`, and
//!   the limit never fell below 0.8 `C`. Probes come 4 round trips apart while they keep
//!   finding a lower baseline, and twice as far apart each time they do not,
//!   up to `probe_interval` round trips (default 100). App-limited samples
//!   do not count towards the next probe.
//!
//! ```
//! use std::time::Duration;
//! use seawall_shed::limit::{Gradient, LimitAlgorithm, Sample};
//!
//! // A service that serves 30 calls at once in 10 ms and queues the rest.
//! let latency = |in_flight: usize| {
//!     Duration::from_millis(10).mul_f64((in_flight as f64 / 30.0).max(1.0))
//! };
//!
//! let mut gradient = Gradient::builder().build()?;
//! let mut limit = gradient.initial_limit();
//! for _ in 0..400 {
//!     // One round trip: `limit` calls at once, each reporting a sample.
//!     let in_flight = limit;
//!     for _ in 0..in_flight {
//!         let sample = Sample { latency: latency(in_flight), in_flight, dropped: false };
//!         limit = gradient.update(&sample);
//!     }
//! }
//! assert!((27..=34).contains(&limit), "{limit}");
//! # Ok::<(), seawall_shed::limit::InvalidConfig>(())
//! ```
//!
//! # AIMD
//!
//! [`Aimd`] is the loss-based rule of TCP congestion control. Each
//! successful sample adds `increase / limit`, so a round trip of them adds
//! about `increase` calls (default 1); a lost one (dropped, or slower than
//! the optional `timeout`) multiplies the limit by `backoff_ratio` (default
//! 0.9). Losses among the calls that were already in flight at a cut are
//! the same congestion and do not cut again. Successes while app-limited
//! (`in_flight * 2 < limit`) do not grow it. With a timeout `T` over a
//! service of base latency `S`, it settles near `C * T / S`, the
//! concurrency at which calls start to take longer than `T`, in a sawtooth
//! of about 10%.
//!
//! It needs no baseline, so it suits a client that cannot know how fast the
//! far side should be but can see refusals and timeouts; it only reacts
//! once calls are already failing, which is why servers use [`Gradient`].
//!
//! # Fixed
//!
//! [`Fixed`] ignores every sample. See its docs.
//!
//! # Limitations
//!
//! - The gradient tells a slower dependency from queueing only by cutting:
//!   a slowdown costs a cut of a fifth to two fifths of the limit (a
//!   probe's cut, plus the smoothing) for a few round trips before the
//!   baseline takes the new latency (in the simulations the limit's lowest
//!   point was 67 to 88 for a capacity of 100, and 25 for 40 through the
//!   service in `tests/service_convergence.rs`). A service that is both
//!   slower and queueing is read as queueing until a cut shows the latency
//!   deaf to it.
//! - Probes cost a little throughput: a cut of `1 - 1/t^2` (17% with the
//!   defaults) for a round trip, and a regrowth that may overshoot the
//!   ideal concurrency by up to about 15% for a round trip, every
//!   `probe_interval` round trips at a steady state.
//! - The tolerance must exceed the noise of the short-term latency. The
//!   defaults (tolerance 1.1, `short_window` 16) are sized for calls within
//!   about 30% of each other, plus occasional outliers; with the earlier
//!   `short_window` of 10, that noise collapsed the limit. The longer window
//!   costs reaction time: queueing shows in the short-term average over
//!   about 16 samples rather than 10. For a service whose latency varies
//!   more widely from call to call, raise `short_window` (a slower
//!   reaction) or the tolerance (a higher settling point, and more
//!   queueing).
//! - The untried part of a limit goes at once only above 1.5 times the
//!   concurrency lately proven, and only down to that concurrency plus
//!   one. A limit less far above it, or a service that lost capacity while
//!   it was app-limited, still comes down by the smoothed cut, with a
//!   round trip or more of queueing on the way.
//! - While app-limited, the limit ignores latency: if a service slows down
//!   while its load stays below half the limit, the limit stays where it
//!   was (the baseline slowly learns the slower latency) and reacts only
//!   once the load reaches half of it, or calls are dropped.
//! - Between probes, noise still drags the baseline down a little, and the
//!   limit sits lower for it until a probe (latency within tolerance) or a
//!   run of cuts (latency beyond it) shows the latency deaf to
//!   concurrency; each costs a cut of about a fifth for a round trip or
//!   more.

use std::time::Duration;

mod aimd;
mod error;
mod fixed;
mod gradient;

pub use aimd::{Aimd, AimdBuilder};
pub use error::InvalidConfig;
pub use fixed::Fixed;
pub use gradient::{Gradient, GradientBuilder};

/// One finished call, as an algorithm sees it.
///
/// Cancelled calls (the caller dropped the response future) never become
/// samples: they say nothing about the service's latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// How long the call took, from admission to its response.
    pub latency: Duration,
    /// Calls in flight when this one was admitted, itself included.
    pub in_flight: usize,
    /// Whether the call counts as a loss: it timed out, or the service
    /// refused it as overloaded. Loss-based algorithms back off on it.
    pub dropped: bool,
}

/// Turns samples into a concurrency limit.
///
/// Implementations should do a bounded amount of work per sample and not
/// allocate: `update` runs under the limiter's lock on every finished call.
pub trait LimitAlgorithm: Send + 'static {
    /// The limit before any sample arrives.
    fn initial_limit(&self) -> usize;

    /// Takes one sample and returns the new limit.
    ///
    /// The result is always within the algorithm's own minimum and maximum.
    fn update(&mut self, sample: &Sample) -> usize;

    /// A short stable name for logs, metrics and health (`"gradient"`, ...).
    fn name(&self) -> &'static str;

    /// Whether the limit depends on samples at all.
    ///
    /// An algorithm that returns `false` (a [`Fixed`] limit) is never fed:
    /// its calls skip the two clock reads and the lock that recording a
    /// sample costs. The default is `true`.
    fn learns(&self) -> bool {
        true
    }
}

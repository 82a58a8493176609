//! The limit algorithms against a simulated service whose latency follows
//! Little's law: flat up to its ideal concurrency, then growing in
//! proportion to the calls in flight.
//!
//! The simulation is pure and deterministic. Each round admits
//! `min(limit, demand)` calls at once; every one of them finishes with the
//! same latency (or, in the noisy cases, that latency scaled by a factor
//! from a fixed-seed generator) and reports a sample with `in_flight` equal
//! to the round's admitted count. The limit the algorithm returns after a round's samples
//! sets the next round, so the feedback arrives one round trip late, as it
//! does in a real service.

use std::time::Duration;

use seawall_shed::limit::{Aimd, Gradient, LimitAlgorithm, Sample};

/// A service with `capacity` calls' worth of parallelism and a latency of
/// `base` when it is not saturated.
#[derive(Debug, Clone, Copy)]
struct Service {
    capacity: usize,
    base: Duration,
}

impl Service {
    fn new(capacity: usize, base_millis: u64) -> Self {
        Service {
            capacity,
            base: Duration::from_millis(base_millis),
        }
    }

    /// Little's law: past its capacity the service queues, and latency
    /// grows in proportion to the calls in flight.
    fn latency(&self, in_flight: usize) -> Duration {
        if in_flight <= self.capacity {
            return self.base;
        }
        self.base.mul_f64(in_flight as f64 / self.capacity as f64)
    }
}

/// Deterministic noise for the simulated service: a fixed-seed linear
/// congruential generator (the MMIX constants) drawing a factor for each
/// call's latency.
struct Noise {
    state: u64,
    outliers: bool,
}

impl Noise {
    /// Factors uniform in `0.7..1.3`: every call within 30% of the
    /// service's latency.
    fn uniform(seed: u64) -> Self {
        Noise {
            state: seed,
            outliers: false,
        }
    }

    /// As [`Noise::uniform`], and one call in fifty (on average) three
    /// times slower again: a heavy-ish tail.
    fn with_outliers(seed: u64) -> Self {
        Noise {
            state: seed,
            outliers: true,
        }
    }

    /// A number uniform in `0..1`, from the generator's top 53 bits.
    fn unit(&mut self) -> f64 {
        self.state = self
            .state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.state >> 11) as f64 / (1u64 << 53) as f64
    }

    fn factor(&mut self) -> f64 {
        let mut factor = 0.7 + 0.6 * self.unit();
        if self.outliers && self.unit() < 0.02 {
            factor *= 3.0;
        }
        factor
    }

    /// The service's latency at `in_flight`, scaled by the next factor.
    fn latency(&mut self, service: &Service, in_flight: usize) -> Duration {
        service.latency(in_flight).mul_f64(self.factor())
    }
}

/// Drives an algorithm against a service, counting samples.
struct Simulation<A> {
    algorithm: A,
    limit: usize,
    samples: u64,
}

impl<A: LimitAlgorithm> Simulation<A> {
    fn new(algorithm: A) -> Self {
        let limit = algorithm.initial_limit();
        Simulation {
            algorithm,
            limit,
            samples: 0,
        }
    }

    /// One round trip: admits up to `demand` calls and feeds their samples.
    fn round(&mut self, service: &Service, demand: usize) -> usize {
        self.round_with(demand, |in_flight| (service.latency(in_flight), false))
    }

    /// One round trip against a service whose latency carries `noise`.
    fn noisy_round(&mut self, service: &Service, demand: usize, noise: &mut Noise) -> usize {
        self.round_with(demand, |in_flight| {
            (noise.latency(service, in_flight), false)
        })
    }

    /// Runs `rounds` noisy rounds and returns the lowest and highest limit
    /// and the share of rounds that ended within 10% of `target`.
    fn noisy_hold(
        &mut self,
        service: &Service,
        demand: usize,
        target: usize,
        rounds: u32,
        noise: &mut Noise,
    ) -> Band {
        let mut band = Band {
            low: usize::MAX,
            high: 0,
            inside: 0.0,
        };
        let mut inside = 0;
        for _ in 0..rounds {
            let limit = self.noisy_round(service, demand, noise);
            band.low = band.low.min(limit);
            band.high = band.high.max(limit);
            if within_ten_percent(limit, target) {
                inside += 1;
            }
        }
        band.inside = f64::from(inside) / f64::from(rounds);
        band
    }

    /// One round trip whose outcome per call comes from `outcome`.
    fn round_with(
        &mut self,
        demand: usize,
        mut outcome: impl FnMut(usize) -> (Duration, bool),
    ) -> usize {
        let admitted = self.limit.min(demand);
        for _ in 0..admitted {
            let (latency, dropped) = outcome(admitted);
            let sample = Sample {
                latency,
                in_flight: admitted,
                dropped,
            };
            self.limit = self.algorithm.update(&sample);
            self.samples += 1;
        }
        self.limit
    }

    /// Runs rounds at `demand` until the limit is within 10% of `target`;
    /// returns the samples that took, or `None` if it did not happen
    /// within `max_samples`.
    fn reach(
        &mut self,
        service: &Service,
        demand: usize,
        target: usize,
        max_samples: u64,
    ) -> Option<u64> {
        let start = self.samples;
        while self.samples - start < max_samples {
            if within_ten_percent(self.round(service, demand), target) {
                return Some(self.samples - start);
            }
        }
        None
    }

    /// Runs `rounds` rounds and returns the lowest and highest limit and
    /// the share of rounds that ended within 10% of `target`.
    fn hold(&mut self, service: &Service, demand: usize, target: usize, rounds: u32) -> Band {
        let mut band = Band {
            low: usize::MAX,
            high: 0,
            inside: 0.0,
        };
        let mut inside = 0;
        for _ in 0..rounds {
            let limit = self.round(service, demand);
            band.low = band.low.min(limit);
            band.high = band.high.max(limit);
            if within_ten_percent(limit, target) {
                inside += 1;
            }
        }
        band.inside = f64::from(inside) / f64::from(rounds);
        band
    }

    /// Runs rounds until at least `samples` samples have been fed.
    fn run(&mut self, service: &Service, demand: usize, samples: u64) {
        let end = self.samples + samples;
        while self.samples < end {
            self.round(service, demand);
        }
    }
}

/// What a run of rounds did to the limit.
#[derive(Debug)]
struct Band {
    low: usize,
    high: usize,
    inside: f64,
}

fn within_ten_percent(limit: usize, target: usize) -> bool {
    limit.abs_diff(target) * 10 <= target
}

fn gradient() -> Gradient {
    Gradient::builder().build().expect("the defaults are valid")
}

/// Asserts that over 300 rounds the limit ends within 10% of `target` in at
/// least 90% of rounds and never rises more than 15% above it. The rounds
/// outside are the gradient's probes, which dip below on purpose, and the
/// regrowth after one, which may overshoot for a round trip before the
/// latency it causes is seen.
fn assert_holds<A: LimitAlgorithm>(
    sim: &mut Simulation<A>,
    service: &Service,
    demand: usize,
    target: usize,
) {
    let band = sim.hold(service, demand, target, 300);
    assert!(
        band.high * 20 <= target * 23,
        "{band:?} overshoots {target}"
    );
    assert!(band.inside >= 0.9, "{band:?} strays from {target}");
}

#[test]
fn gradient_converges_to_the_ideal_concurrency() {
    // Measured: 282, 949 and 4,090 samples from the default initial limit
    // of 20 (C = 10 starts above it and comes down).
    for (capacity, bound) in [(10, 1_000), (50, 2_000), (200, 8_000)] {
        let service = Service::new(capacity, 10);
        let mut sim = Simulation::new(gradient());

        let took = sim.reach(&service, capacity * 4, capacity, bound);
        assert!(
            took.is_some(),
            "capacity {capacity}: not within 10% after {bound} samples"
        );
        assert_holds(&mut sim, &service, capacity * 4, capacity);
    }
}

#[test]
fn gradient_follows_capacity_down_and_back_up() {
    let full = Service::new(100, 10);
    let halved = Service::new(50, 10);
    let mut sim = Simulation::new(gradient());
    sim.reach(&full, 400, 100, 10_000).expect("converges first");
    assert_holds(&mut sim, &full, 400, 100);

    // Measured: 438 samples down, 766 back up.
    let down = sim.reach(&halved, 400, 50, 1_000);
    assert!(down.is_some(), "did not follow capacity down");
    assert_holds(&mut sim, &halved, 400, 50);

    let up = sim.reach(&full, 400, 100, 2_000);
    assert!(up.is_some(), "did not recover");
    assert_holds(&mut sim, &full, 400, 100);
}

#[test]
fn gradient_backs_off_from_a_slowdown_then_takes_it_as_its_baseline() {
    let normal = Service::new(100, 10);
    let slow = Service::new(100, 20);
    let mut sim = Simulation::new(gradient());
    sim.reach(&normal, 400, 100, 10_000)
        .expect("converges first");

    // Every call now takes twice as long at any concurrency. The gradient
    // backs off as it would from queueing, but once a round trip at a
    // probe's cut lower is just as slow, cutting further cannot help: the
    // slower latency becomes the baseline, and the limit climbs back to
    // the 100 calls the service still carries at once. (Before, it cut on
    // to 1 and stayed there for the whole slowdown and 140 round trips
    // after it.) Measured: lowest 67, back within 10% after 110 samples.
    let mut lowest = usize::MAX;
    for _ in 0..20 {
        lowest = lowest.min(sim.round(&slow, 400));
    }
    assert!(lowest <= 85, "did not back off: {lowest}");
    assert!(lowest >= 60, "collapsed to {lowest}");
    let held = sim.reach(&slow, 400, 100, 4_000);
    assert!(held.is_some(), "did not climb back while slow");
    assert_holds(&mut sim, &slow, 400, 100);
    let baseline = sim.algorithm.baseline_latency().expect("has samples");
    assert!((baseline - 0.02).abs() < 1e-6, "baseline {baseline}");

    // Latency back to normal: the baseline follows it down, and a probe
    // at once finds what of it was queueing. Measured: 282 samples back
    // within 10%.
    let up = sim.reach(&normal, 400, 100, 4_000);
    assert!(up.is_some(), "did not recover");
    assert_holds(&mut sim, &normal, 400, 100);
}

#[test]
fn gradient_takes_a_noisy_slowdown_as_its_baseline() {
    // The same with latency noise, for several seeds: the limit backs off
    // without collapsing and comes back near the capacity while the
    // slowdown lasts. Measured over seeds 1 to 4, each with both kinds of
    // noise: lowest 80 to 88, and 71% to 97% of the slowdown's last 200
    // rounds within 10% of 100.
    let normal = Service::new(100, 10);
    let slow = Service::new(100, 20);
    for seed in 1..=4 {
        for mut noise in [Noise::uniform(seed), Noise::with_outliers(seed)] {
            let mut sim = Simulation::new(gradient());
            reach_noisy(&mut sim, &normal, 400, 100, 20_000, &mut noise).expect("converges");
            for _ in 0..300 {
                sim.noisy_round(&normal, 400, &mut noise);
            }
            let early = sim.noisy_hold(&slow, 400, 100, 100, &mut noise);
            let late = sim.noisy_hold(&slow, 400, 100, 200, &mut noise);
            assert!(early.low >= 60, "seed {seed}: collapsed: {early:?}");
            assert!(late.low >= 70, "seed {seed}: {late:?}");
            assert!(late.inside >= 0.6, "seed {seed}: {late:?}");
        }
    }
}

#[test]
fn gradient_cuts_a_limit_held_while_app_limited_within_a_round_trip() {
    // Six calls at a time against a service that carries 10: app-limited,
    // so the limit stays at its initial 20, untried above 6.
    let service = Service::new(10, 10);
    let mut sim = Simulation::new(gradient());
    sim.run(&service, 6, 2_000);
    assert_eq!(sim.limit, Gradient::DEFAULT_INITIAL_LIMIT);

    // Demand jumps to four times capacity. After one round trip (the 20
    // calls the old limit let in) the limit is within 10% of 10 already;
    // smoothed cuts alone left it at 15.
    let after = sim.round(&service, 40);
    assert!(within_ten_percent(after, 10), "{after}");
    assert_holds(&mut sim, &service, 40, 10);
}

#[test]
fn gradient_stays_put_when_app_limited() {
    let service = Service::new(100, 10);
    let mut sim = Simulation::new(gradient());
    sim.reach(&service, 400, 100, 10_000)
        .expect("converges first");
    let limit = sim.limit;

    // Demand well below the limit: flat latency, but no evidence that more
    // would be served as fast, so the limit must not grow (nor probe).
    sim.run(&service, limit / 3, 50_000);
    assert_eq!(sim.limit, limit);

    // The same from the initial limit, before anything was learned.
    let mut fresh = Simulation::new(gradient());
    fresh.run(&service, 5, 50_000);
    assert_eq!(fresh.limit, Gradient::DEFAULT_INITIAL_LIMIT);
}

#[test]
fn gradient_does_not_creep_up_during_a_long_incident() {
    let full = Service::new(100, 10);
    let degraded = Service::new(25, 10);
    let mut sim = Simulation::new(gradient());
    sim.reach(&full, 400, 100, 10_000).expect("converges first");
    let baseline = sim.algorithm.baseline_latency().expect("has samples");

    // A long incident: three quarters of the capacity gone, latency high
    // at the old limit. Measured: 358 samples to come down.
    sim.reach(&degraded, 400, 25, 1_000)
        .expect("follows the incident down");
    let early = sim.hold(&degraded, 400, 25, 1_000);
    let late = sim.hold(&degraded, 400, 25, 4_000);
    assert!(
        sim.samples > 100_000,
        "a long incident: {} samples",
        sim.samples
    );
    assert!(late.high <= early.high, "crept up: {early:?} then {late:?}");
    assert!(late.inside >= 0.9, "{late:?}");
    // Unchanged but for the last trace of the queueing before the cut,
    // which a probe may find in the latency at the lower concurrency.
    let after = sim.algorithm.baseline_latency().expect("has samples");
    assert!(
        (after / baseline - 1.0).abs() < 1e-4,
        "{baseline} then {after}"
    );

    // Measured: 1,286 samples back to within 10% of 100.
    let up = sim.reach(&full, 400, 100, 3_000);
    assert!(up.is_some(), "did not recover after the incident");
    assert_holds(&mut sim, &full, 400, 100);
}

/// Runs noisy rounds at `demand` until the limit is within 10% of `target`;
/// returns the samples that took, or `None` if it did not happen within
/// `max_samples`.
fn reach_noisy<A: LimitAlgorithm>(
    sim: &mut Simulation<A>,
    service: &Service,
    demand: usize,
    target: usize,
    max_samples: u64,
    noise: &mut Noise,
) -> Option<u64> {
    let start = sim.samples;
    while sim.samples - start < max_samples {
        if within_ten_percent(sim.noisy_round(service, demand, noise), target) {
            return Some(sim.samples - start);
        }
    }
    None
}

#[test]
fn gradient_converges_under_noisy_latency() {
    // Every call's latency is scaled by a factor uniform in 0.7..1.3, and
    // in the second case one call in fifty takes three times as long again.
    // Measured over 2,000 rounds after a run-in, the share of rounds within
    // 10% of C: C = 10: 0.88 and 0.85; C = 50: 0.96 and 0.90; C = 200: 0.96
    // and 0.94 (the rest mostly probes and their regrowth, and at C = 10 a
    // single call is 10%). The lowest limit seen: 8 and 8, 42 and 41, 170
    // and 166; samples to first come within 10%: 526 and 553, 1,492 and
    // 1,397, 5,559 and 5,135.
    for (capacity, bound) in [(10, 2_000), (50, 4_000), (200, 15_000)] {
        for (name, outliers) in [("uniform", false), ("outliers", true)] {
            let service = Service::new(capacity, 10);
            let mut noise = if outliers {
                Noise::with_outliers(42)
            } else {
                Noise::uniform(42)
            };
            let mut sim = Simulation::new(gradient());
            let took = reach_noisy(
                &mut sim,
                &service,
                capacity * 4,
                capacity,
                bound,
                &mut noise,
            );
            assert!(
                took.is_some(),
                "capacity {capacity}, {name}: not within 10% after {bound} samples"
            );
            // A run-in, then the measure.
            for _ in 0..1_000 {
                sim.noisy_round(&service, capacity * 4, &mut noise);
            }
            let band = sim.noisy_hold(&service, capacity * 4, capacity, 2_000, &mut noise);
            assert!(band.inside >= 0.8, "capacity {capacity}, {name}: {band:?}");
            // No collapse towards the minimum, and no runaway.
            assert!(
                band.low * 10 >= capacity * 6,
                "capacity {capacity}, {name}: {band:?}"
            );
            assert!(
                band.high * 10 <= capacity * 13,
                "capacity {capacity}, {name}: {band:?}"
            );
        }
    }
}

#[test]
fn noise_does_not_ratchet_the_gradient_down_over_a_long_run() {
    // The baseline may only fall while the limit is in use, so it would
    // settle on the lowest dip noise ever gave the short-term average if it
    // followed every dip; it follows them only to within a margin of the
    // noise. Ever deeper dips still come along, and each drags it a little
    // lower: before probes could raise it again, this run's baseline sat at
    // 9.6 ms for a mean of 10.4 ms after 3,000,000 samples, 0.76 of rounds
    // ended within 10% and the limit fell as low as 24 (and, with uniform
    // noise, to 1 after 2,500,000 samples in a longer run). Measured now:
    // 0.84 of rounds within 10% early and 0.90 late, the lowest limit 41
    // and a baseline of 10.1 ms.
    let service = Service::new(50, 10);
    let mut noise = Noise::with_outliers(5);
    let mut sim = Simulation::new(gradient());
    reach_noisy(&mut sim, &service, 200, 50, 4_000, &mut noise).expect("converges first");
    for _ in 0..1_000 {
        sim.noisy_round(&service, 200, &mut noise);
    }
    let early = sim.noisy_hold(&service, 200, 50, 2_000, &mut noise);
    while sim.samples < 3_000_000 {
        sim.noisy_round(&service, 200, &mut noise);
    }
    let late = sim.noisy_hold(&service, 200, 50, 2_000, &mut noise);
    assert!(late.inside >= 0.85, "{early:?} then {late:?}");
    assert!(late.low >= 35, "{early:?} then {late:?}");
    let baseline = sim.algorithm.baseline_latency().expect("has samples");
    assert!(baseline >= 0.0095, "baseline {baseline}");
}

#[test]
fn gradient_stays_put_when_app_limited_under_noisy_latency() {
    // The benchmark's case: one or two calls at a time, latency noisy and
    // heavy-tailed relative to its size. Latency at a concurrency well
    // below the limit is not of the limit's making: it neither grows nor
    // cuts the limit.
    let service = Service::new(100, 1);
    for demand in [1, 2, 5] {
        for mut noise in [Noise::uniform(3), Noise::with_outliers(3)] {
            let mut sim = Simulation::new(gradient());
            while sim.samples < 50_000 {
                sim.noisy_round(&service, demand, &mut noise);
            }
            assert_eq!(
                sim.limit,
                Gradient::DEFAULT_INITIAL_LIMIT,
                "demand {demand}"
            );
        }
    }

    // And once learned under load: at a third of the limit it stays put.
    let service = Service::new(100, 10);
    let mut noise = Noise::with_outliers(5);
    let mut sim = Simulation::new(gradient());
    reach_noisy(&mut sim, &service, 400, 100, 20_000, &mut noise).expect("converges first");
    let limit = sim.limit;
    let end = sim.samples + 50_000;
    while sim.samples < end {
        assert_eq!(sim.noisy_round(&service, limit / 3, &mut noise), limit);
    }
}

fn aimd(timeout_millis: u64) -> Aimd {
    Aimd::builder()
        .timeout(Duration::from_millis(timeout_millis))
        .build()
        .expect("valid")
}

#[test]
fn aimd_converges_to_the_concurrency_its_timeout_allows() {
    // With a 12 ms timeout over a 10 ms base latency, calls start to count
    // as lost past 1.2 times the capacity. Measured: 68, 1,261 and 23,295
    // samples (AIMD adds one call per round trip).
    for (capacity, bound) in [(10, 500), (50, 3_000), (200, 40_000)] {
        let service = Service::new(capacity, 10);
        let target = capacity * 12 / 10;
        let mut sim = Simulation::new(aimd(12));

        let took = sim.reach(&service, capacity * 4, target, bound);
        assert!(
            took.is_some(),
            "capacity {capacity}: not within 10% after {bound} samples"
        );
        assert_holds(&mut sim, &service, capacity * 4, target);
    }
}

#[test]
fn aimd_backs_off_on_drops_and_recovers() {
    // A service that drops what it cannot start at once: no timeout
    // needed, the drops alone bring the limit to its capacity.
    let capacity = 40;
    let mut sim = Simulation::new(Aimd::builder().build().expect("valid"));
    let drops_past_capacity = |_in_flight: usize, index: &mut usize| {
        *index += 1;
        (Duration::from_millis(10), *index > capacity)
    };
    for _ in 0..2_000 {
        let mut index = 0;
        sim.round_with(160, |in_flight| drops_past_capacity(in_flight, &mut index));
    }
    let band = {
        let mut low = usize::MAX;
        let mut high = 0;
        for _ in 0..300 {
            let mut index = 0;
            let limit = sim.round_with(160, |in_flight| drops_past_capacity(in_flight, &mut index));
            low = low.min(limit);
            high = high.max(limit);
        }
        (low, high)
    };
    assert!(
        within_ten_percent(band.0, capacity) && within_ten_percent(band.1, capacity),
        "{band:?}"
    );

    // The service starts dropping everything: the limit falls to its
    // minimum, then climbs back once calls succeed again.
    let before = sim.limit;
    sim.round_with(160, |_| (Duration::from_millis(10), true));
    assert!(sim.limit < before);
    for _ in 0..200 {
        sim.round_with(160, |_| (Duration::from_millis(10), true));
    }
    assert_eq!(sim.limit, Aimd::DEFAULT_MIN_LIMIT);
    let service = Service::new(capacity, 10);
    let mut aimd_sim = Simulation {
        algorithm: sim.algorithm,
        limit: sim.limit,
        samples: 0,
    };
    aimd_sim.run(&service, 160, 2_000);
    assert!(
        aimd_sim.limit > 20,
        "did not climb back: {}",
        aimd_sim.limit
    );
}

#[test]
fn aimd_stays_put_when_app_limited() {
    let service = Service::new(100, 10);
    let mut sim = Simulation::new(aimd(12));
    sim.run(&service, 5, 50_000);
    assert_eq!(sim.limit, Aimd::DEFAULT_INITIAL_LIMIT);
}

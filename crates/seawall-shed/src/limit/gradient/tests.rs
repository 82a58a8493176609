//! The gradient's guardrails, one sample at a time.

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

    // A long run of losses drives it to the minimum and no lower.
    let mut lowest = usize::MAX;
    for _ in 0..2_000 {
        let limit = gradient.limit();
        let loss = Sample {
            dropped: true,
            ..sample(1_000, limit)
        };
        lowest = lowest.min(gradient.update(&loss));
    }
    assert_eq!(lowest, 5);
}

#[test]
fn takes_a_slowdown_that_cutting_does_not_help_as_the_baseline() {
    let mut gradient = Gradient::builder().initial_limit(50).build().unwrap();
    feed(&mut gradient, 10, 100);
    let before = gradient.limit();

    // Every call is now three times slower whatever the concurrency. The
    // limit backs off; once it is a probe's cut lower and a round trip of
    // calls there was just as slow, backing off further cannot help, and
    // the baseline takes the new latency.
    let mut lowest = usize::MAX;
    for _ in 0..5_000 {
        let limit = gradient.limit();
        lowest = lowest.min(gradient.update(&sample(30, limit)));
    }
    let cut = (1.0 / (Gradient::DEFAULT_TOLERANCE * Gradient::DEFAULT_TOLERANCE)) as f32;
    assert!(
        (lowest as f32) < before as f32 * cut,
        "{before} -> {lowest}"
    );
    assert!(lowest * 2 >= before, "{before} -> {lowest}");
    let baseline = gradient.baseline_latency().unwrap();
    assert!((baseline - 0.03).abs() < 1e-9, "{baseline}");
    assert!(gradient.limit() >= before, "{}", gradient.limit());
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
fn cuts_an_untried_limit_at_once() {
    // Held at 20 while the service was app-limited at 8 calls of 10 ms.
    let mut gradient = Gradient::builder().initial_limit(20).build().unwrap();
    for _ in 0..200 {
        assert_eq!(gradient.update(&sample(10, 8)), 20);
    }

    // Then the load rises past what the service carries: a call admitted
    // with 12 in flight took twice the baseline. The limit above 9 (the
    // 8 proven, and a slot) was never tried and goes at once, and the
    // smoothed cut goes on from there; that cut alone would have left 19.
    let cut = gradient.update(&sample(20, 12));
    assert_eq!(cut, 8);

    // Calls admitted under the old limit keep finishing slow, for fewer
    // samples than it let in; they do not cut it again.
    for _ in 0..15 {
        assert_eq!(gradient.update(&sample(30, 20)), cut);
    }
}

#[test]
fn cuts_a_limit_in_use_a_little_at_a_time() {
    // The same slow call against a limit of 40 proven in use: the cut is
    // the smoothed one, a fraction of a round trip's worth.
    let mut gradient = Gradient::builder().initial_limit(40).build().unwrap();
    let before = feed(&mut gradient, 10, 200);
    let after = gradient.update(&sample(20, before));
    assert!(after < before && after + 2 >= before, "{before} -> {after}");
}

#[test]
fn baseline_does_not_rise_while_the_limit_holds_back_queueing() {
    let mut gradient = Gradient::builder().initial_limit(100).build().unwrap();
    feed(&mut gradient, 10, 100);
    let baseline = gradient.baseline_latency().unwrap();

    // A long incident: the service now carries 30 calls at once in 10 ms
    // and queues the rest, every sample taken with the limit in use.
    // Cutting lowers the latency, so it is queueing, and the baseline
    // stays (but for the last trace of it that a probe may find).
    let queueing = |in_flight: usize| Sample {
        latency: Duration::from_micros(10_000 * in_flight.max(30) as u64 / 30),
        in_flight,
        dropped: false,
    };
    let mut highest_after_backoff = 0;
    let mut highest_baseline = baseline;
    for index in 0..200_000 {
        let limit = gradient.update(&queueing(gradient.limit()));
        if index > 5_000 {
            highest_after_backoff = highest_after_backoff.max(limit);
        }
        highest_baseline = highest_baseline.max(gradient.baseline_latency().unwrap());
    }
    assert!(
        highest_baseline / baseline - 1.0 < 1e-4,
        "{baseline} rose to {highest_baseline}"
    );
    assert!(
        highest_after_backoff <= 34,
        "crept up to {highest_after_backoff}"
    );

    // The incident over: it grows again.
    feed(&mut gradient, 10, 2_000);
    assert!(gradient.limit() > 40, "{}", gradient.limit());
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

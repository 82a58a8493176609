//! How long the breaker stays open, trip after trip.

use std::time::Duration;

use seawall_breaker::BreakerState::{Closed, Open};
use seawall_core::Rejection;

use crate::{quiet, secs, Subject, FAILED, OK};

fn backoff(jitter: f64) -> Subject {
    Subject::new(
        quiet()
            .consecutive_failures(1)
            .half_open_probes(1)
            .open_duration(secs(1))
            .max_open_duration(secs(10))
            .open_backoff_multiplier(2.0)
            .open_jitter(jitter),
    )
}

/// The refusal's hint right after the breaker opened at `at`.
fn open_for(s: &Subject, at: Duration) -> Duration {
    s.call(at, OK).unwrap_err().retry_after().unwrap()
}

#[test]
fn the_open_period_doubles_with_each_trip_up_to_the_cap() {
    let s = backoff(0.0);
    let mut now = secs(0);
    s.trip(now);
    let mut periods = vec![open_for(&s, now)];
    for _ in 0..5 {
        // The probe after each period fails.
        now += *periods.last().unwrap();
        s.call(now, FAILED).unwrap();
        assert_eq!(s.state(now), Open);
        periods.push(open_for(&s, now));
    }
    let secs: Vec<_> = periods.iter().map(Duration::as_secs).collect();
    assert_eq!(secs, [1, 2, 4, 8, 10, 10]);
    assert_eq!(s.breaker.stats_at(s.at(now)).trips, 6);
}

#[test]
fn closing_starts_the_backoff_over() {
    let s = backoff(0.0);
    s.trip(secs(0));
    s.call(secs(1), FAILED).unwrap();
    assert_eq!(open_for(&s, secs(1)), secs(2));
    s.call(secs(3), OK).unwrap();
    assert_eq!(s.state(secs(3)), Closed);
    s.trip(secs(4));
    assert_eq!(open_for(&s, secs(4)), secs(1));
}

#[test]
fn jitter_shortens_the_period_within_its_fraction_and_never_passes_the_cap() {
    let s = backoff(0.5);
    let mut now = secs(0);
    s.trip(now);
    for trip in 1..=8u32 {
        let nominal = secs(1u64 << (trip - 1)).min(secs(10));
        let period = open_for(&s, now);
        assert!(period <= nominal, "trip {trip}: {period:?} > {nominal:?}");
        assert!(period > nominal / 2, "trip {trip}: {period:?}");
        now += period;
        s.call(now, FAILED).unwrap();
    }
}

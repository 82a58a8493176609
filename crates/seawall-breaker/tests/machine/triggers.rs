//! What trips a closed breaker, and what does not.

use seawall_breaker::BreakerState::{Closed, Open};
use seawall_core::{FailureKind, Outcome};

use crate::{ms, quiet, secs, Subject, FAILED, OK};

#[test]
fn the_failure_rate_trips_only_after_the_minimum_of_calls() {
    let s = Subject::new(quiet().count_window(10).minimum_calls(5).failure_rate(0.5));
    for _ in 0..4 {
        s.call(secs(0), FAILED).unwrap();
    }
    // 100% failures, but only 4 calls of the 5 needed.
    assert_eq!(s.state(secs(0)), Closed);
    s.call(secs(0), FAILED).unwrap();
    assert_eq!(s.state(secs(0)), Open);
    assert_eq!(s.breaker.stats_at(s.at(secs(0))).trips, 1);
}

#[test]
fn the_failure_rate_trips_exactly_at_the_threshold() {
    let s = Subject::new(quiet().count_window(10).minimum_calls(4).failure_rate(0.5));
    for outcome in [FAILED, OK, OK, OK, FAILED] {
        s.call(secs(0), outcome).unwrap();
    }
    // 2 of 5 is 40%.
    assert_eq!(s.state(secs(0)), Closed);
    s.call(secs(0), FAILED).unwrap();
    // 3 of 6 is 50%.
    assert_eq!(s.state(secs(0)), Open);
}

#[test]
fn a_rate_of_zero_trips_on_the_first_failure_after_the_minimum() {
    let s = Subject::new(quiet().count_window(10).minimum_calls(3).failure_rate(0.0));
    for _ in 0..5 {
        s.call(secs(0), OK).unwrap();
    }
    assert_eq!(s.state(secs(0)), Closed);
    s.call(secs(0), FAILED).unwrap();
    assert_eq!(s.state(secs(0)), Open);
}

#[test]
fn the_count_window_forgets_the_oldest_call() {
    let s = Subject::new(quiet().count_window(4).minimum_calls(4).failure_rate(0.75));
    // The first failure leaves the window after four more calls.
    for outcome in [FAILED, OK, OK, OK, OK, FAILED, FAILED] {
        s.call(secs(0), outcome).unwrap();
    }
    let stats = s.breaker.stats_at(s.at(secs(0)));
    assert_eq!((stats.calls, stats.failures), (4, 2));
    assert_eq!(stats.state, Closed);
    s.call(secs(0), FAILED).unwrap();
    assert_eq!(s.state(secs(0)), Open);
}

#[test]
fn the_slow_call_rate_trips_on_calls_over_the_threshold() {
    let s = Subject::new(
        quiet()
            .count_window(10)
            .minimum_calls(4)
            .slow_call_duration(secs(1))
            .slow_call_rate(0.5),
    );
    s.call_taking(secs(0), OK, secs(2)).unwrap();
    // Exactly the threshold is not slow.
    s.call_taking(secs(0), OK, secs(1)).unwrap();
    s.call_taking(secs(0), OK, ms(10)).unwrap();
    let stats = s.breaker.stats_at(s.at(secs(0)));
    assert_eq!((stats.calls, stats.slow_calls), (3, 1));
    s.call_taking(secs(0), FAILED, secs(5)).unwrap();
    // 2 slow of 4: the slow rate trips, the failure rate is off.
    assert_eq!(s.state(secs(0)), Open);
}

#[test]
fn slow_calls_are_counted_without_a_slow_rate_but_never_trip() {
    let s = Subject::new(quiet().count_window(4).slow_call_duration(ms(100)));
    for _ in 0..4 {
        s.call_taking(secs(0), OK, secs(1)).unwrap();
    }
    let stats = s.breaker.stats_at(s.at(secs(0)));
    assert_eq!((stats.slow_calls, stats.slow_rate), (4, 1.0));
    assert_eq!(stats.state, Closed);
}

#[test]
fn consecutive_failures_trip_without_a_minimum_of_calls() {
    let s = Subject::new(quiet().minimum_calls(100).consecutive_failures(3));
    for outcome in [FAILED, FAILED, OK, FAILED, FAILED] {
        s.call(secs(0), outcome).unwrap();
    }
    // The success broke the first run.
    assert_eq!(s.breaker.stats_at(s.at(secs(0))).consecutive_failures, 2);
    assert_eq!(s.state(secs(0)), Closed);
    s.call(secs(0), FAILED).unwrap();
    assert_eq!(s.state(secs(0)), Open);
}

#[test]
fn ignored_and_cancelled_calls_count_neither_way() {
    let s = Subject::new(quiet().consecutive_failures(2).count_window(10));
    s.call(secs(0), FAILED).unwrap();
    s.call(secs(0), Outcome::Ignored).unwrap();
    drop(s.breaker.try_acquire_at(s.at(secs(0))).unwrap());
    s.call(secs(0), Outcome::Cancelled).unwrap();
    let stats = s.breaker.stats_at(s.at(secs(0)));
    assert_eq!((stats.calls, stats.consecutive_failures), (1, 1));
    // Nothing above broke the run of failures.
    s.call(secs(0), Outcome::Failure(FailureKind::Timeout))
        .unwrap();
    assert_eq!(s.state(secs(0)), Open);
}

#[test]
fn the_time_window_forgets_buckets_that_age_out() {
    let s = Subject::new(
        quiet()
            .time_window(secs(10), 10)
            .minimum_calls(2)
            .failure_rate(0.5),
    );
    s.call(secs(0), FAILED).unwrap();
    // Eleven seconds on, the failure has left the window.
    s.call(secs(11), OK).unwrap();
    let stats = s.breaker.stats_at(s.at(secs(11)));
    assert_eq!((stats.calls, stats.failures), (1, 0));
    assert_eq!(stats.state, Closed);
    // Stats leave out aged buckets even before the next call.
    assert_eq!(s.breaker.stats_at(s.at(secs(30))).calls, 0);
    s.call(secs(12), FAILED).unwrap();
    assert_eq!(s.state(secs(12)), Open);
}

#[test]
fn the_time_window_trips_within_one_window() {
    let s = Subject::new(
        quiet()
            .time_window(secs(10), 5)
            .minimum_calls(3)
            .failure_rate(0.6),
    );
    s.call(secs(1), FAILED).unwrap();
    s.call(secs(5), OK).unwrap();
    assert_eq!(s.state(secs(5)), Closed);
    s.call(secs(9), FAILED).unwrap();
    assert_eq!(s.state(secs(9)), Open);
}

#[test]
fn a_call_admitted_before_a_trip_does_not_count_after_it() {
    let s = Subject::new(quiet().consecutive_failures(1).open_duration(secs(1)));
    let late = s.breaker.try_acquire_at(s.at(secs(0))).unwrap();
    s.trip(secs(0));
    // Through half-open back to closed.
    s.call(secs(1), OK).unwrap();
    s.call(secs(1), OK).unwrap();
    assert_eq!(s.state(secs(1)), Closed);
    late.record_at(FAILED, secs(0), s.at(secs(1)));
    assert_eq!(s.state(secs(1)), Closed);
    assert_eq!(s.breaker.stats_at(s.at(secs(1))).calls, 0);
}

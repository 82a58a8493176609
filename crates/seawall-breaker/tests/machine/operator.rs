//! The operator's states: forced open, disabled, metrics-only; and reset.

use seawall_breaker::BreakerState::{Closed, Disabled, ForcedOpen, MetricsOnly, Open};
use seawall_core::Rejection;

use crate::{quiet, secs, Subject, FAILED, OK};

fn subject() -> Subject {
    Subject::new(quiet().count_window(4).minimum_calls(2).failure_rate(0.5))
}

#[test]
fn forced_open_refuses_every_call_until_released() {
    let s = subject();
    s.breaker.force_open();
    let refused = s.call(secs(0), OK).unwrap_err();
    assert!(refused.is_forced());
    assert_eq!(refused.name(), Some("circuit_breaker"));
    assert_eq!(refused.retry_after(), Some(secs(30)));
    // Time does not end it.
    assert_eq!(s.state(secs(3600)), ForcedOpen);
    assert!(s.call(secs(3600), OK).is_err());

    s.breaker.force_closed();
    assert_eq!(s.state(secs(3600)), Closed);
    s.call(secs(3600), OK).unwrap();
}

#[test]
fn force_closed_closes_with_an_empty_window_and_a_fresh_backoff() {
    let s = Subject::new(
        quiet()
            .consecutive_failures(1)
            .open_duration(secs(1))
            .max_open_duration(secs(8)),
    );
    s.trip(secs(0));
    s.call(secs(1), FAILED).unwrap();
    s.breaker.force_closed();
    assert_eq!(s.breaker.stats_at(s.at(secs(1))).calls, 0);
    s.trip(secs(2));
    let refused = s.call(secs(2), OK).unwrap_err();
    assert_eq!(refused.retry_after(), Some(secs(1)));
}

#[test]
fn disabled_admits_everything_and_records_nothing() {
    let s = subject();
    s.breaker.disable();
    for _ in 0..10 {
        s.call(secs(0), FAILED).unwrap();
    }
    let stats = s.breaker.stats_at(s.at(secs(0)));
    assert_eq!((stats.state, stats.calls, stats.rejected), (Disabled, 0, 0));
    // Retry-After is ignored too.
    s.breaker.hold_open(secs(10), s.at(secs(0)));
    assert_eq!(s.state(secs(0)), Disabled);
}

#[test]
fn metrics_only_counts_and_reports_but_never_refuses() {
    let s = subject();
    s.breaker.metrics_only();
    s.call(secs(0), FAILED).unwrap();
    assert_eq!(s.breaker.stats_at(s.at(secs(0))).calls, 1);
    // The second failure reaches the rate: a shadow trip, a fresh window.
    s.call(secs(0), FAILED).unwrap();
    let stats = s.breaker.stats_at(s.at(secs(0)));
    assert_eq!(stats.state, MetricsOnly);
    assert_eq!((stats.shadow_trips, stats.trips, stats.calls), (1, 0, 0));
    for _ in 0..4 {
        s.call(secs(0), FAILED).unwrap();
    }
    assert_eq!(s.breaker.stats_at(s.at(secs(0))).shadow_trips, 3);
    assert_eq!(s.breaker.stats_at(s.at(secs(0))).rejected, 0);
}

#[test]
fn reset_returns_to_the_first_state_and_zeroes_the_counters() {
    let s = subject();
    s.call(secs(0), FAILED).unwrap();
    s.call(secs(0), FAILED).unwrap();
    assert_eq!(s.state(secs(0)), Open);
    assert!(s.call(secs(0), OK).is_err());
    s.breaker.reset();
    let stats = s.breaker.stats_at(s.at(secs(0)));
    assert_eq!(stats.state, Closed);
    assert_eq!((stats.calls, stats.rejected, stats.trips), (0, 0, 0));
    // The generation is never reset: trip, reset.
    assert_eq!(stats.transitions, 2);
}

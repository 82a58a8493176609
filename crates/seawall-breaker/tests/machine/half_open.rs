//! Open, half-open and the probes' verdict.

use seawall_breaker::BreakerState::{Closed, HalfOpen, Open};
use seawall_core::{Outcome, Rejection};

use crate::{ms, quiet, secs, Subject, FAILED, OK};

fn tripped(probes: u32, ratio: f64) -> Subject {
    let s = Subject::new(
        quiet()
            .consecutive_failures(1)
            .half_open_probes(probes)
            .half_open_success_ratio(ratio),
    );
    s.trip(secs(0));
    s
}

#[test]
fn open_refuses_until_the_period_ends_then_lets_a_probe_through() {
    let s = tripped(1, 1.0);
    let refused = s.call(secs(29), OK).unwrap_err();
    assert_eq!(refused.retry_after(), Some(secs(1)));
    assert!(!refused.is_forced());
    assert_eq!(s.breaker.stats_at(s.at(secs(29))).rejected, 1);

    // Past the period the breaker reads half-open before any call.
    assert_eq!(s.state(secs(30)), HalfOpen);
    let probe = s.breaker.try_acquire_at(s.at(secs(30))).unwrap();
    assert!(probe.is_probe());
    let stats = s.breaker.stats_at(s.at(secs(30)));
    assert_eq!((stats.state, stats.probes_in_flight), (HalfOpen, 1));
    probe.record_at(OK, ms(5), s.at(secs(30)));
    assert_eq!(s.state(secs(30)), Closed);
}

#[test]
fn no_more_than_k_probes_and_a_cancelled_one_frees_its_slot() {
    let s = tripped(2, 1.0);
    let now = s.at(secs(30));
    let first = s.breaker.try_acquire_at(now).unwrap();
    let second = s.breaker.try_acquire_at(now).unwrap();
    let refused = s.breaker.try_acquire_at(now).unwrap_err();
    // With every slot taken, the hint is the base open duration.
    assert_eq!(refused.retry_after(), Some(secs(30)));

    drop(first);
    assert_eq!(s.breaker.stats_at(now).probes_in_flight, 1);
    let third = s.breaker.try_acquire_at(now).unwrap();
    assert!(s.breaker.try_acquire_at(now).is_err());

    second.record_at(OK, ms(1), now);
    third.record_at(OK, ms(1), now);
    assert_eq!(s.breaker.state_at(now), Closed);
}

#[test]
fn an_ignored_probe_gives_its_slot_back() {
    let s = tripped(1, 1.0);
    let now = s.at(secs(30));
    let probe = s.breaker.try_acquire_at(now).unwrap();
    probe.record_at(Outcome::Ignored, ms(1), now);
    assert_eq!(s.breaker.state_at(now), HalfOpen);
    s.call(secs(30), OK).unwrap();
    assert_eq!(s.breaker.state_at(now), Closed);
}

#[test]
fn the_verdict_closes_once_enough_probes_succeed() {
    // 3 of 5 must succeed.
    let s = tripped(5, 0.6);
    let now = s.at(secs(30));
    let probes: Vec<_> = (0..5)
        .map(|_| s.breaker.try_acquire_at(now).unwrap())
        .collect();
    let mut probes = probes.into_iter();
    for outcome in [OK, FAILED, OK, FAILED] {
        probes.next().unwrap().record_at(outcome, ms(1), now);
        assert_eq!(s.breaker.state_at(now), HalfOpen);
    }
    probes.next().unwrap().record_at(OK, ms(1), now);
    assert_eq!(s.breaker.state_at(now), Closed);
    assert_eq!(s.breaker.stats_at(now).calls, 0);
}

#[test]
fn the_verdict_reopens_as_soon_as_closing_is_out_of_reach() {
    // 3 of 5 must succeed, so the third failure settles it.
    let s = tripped(5, 0.6);
    let now = s.at(secs(30));
    let probes: Vec<_> = (0..5)
        .map(|_| s.breaker.try_acquire_at(now).unwrap())
        .collect();
    let mut probes = probes.into_iter();
    for outcome in [FAILED, OK, FAILED] {
        probes.next().unwrap().record_at(outcome, ms(1), now);
    }
    assert_eq!(s.breaker.state_at(now), HalfOpen);
    probes.next().unwrap().record_at(FAILED, ms(1), now);
    assert_eq!(s.breaker.state_at(now), Open);
    // The last probe belongs to a period that is over.
    probes.next().unwrap().record_at(OK, ms(1), now);
    assert_eq!(s.breaker.state_at(now), Open);
    assert_eq!(s.breaker.stats_at(now).trips, 2);
}

#[test]
fn a_half_open_period_without_a_verdict_opens_again() {
    let s = tripped(1, 1.0);
    let probe = s.breaker.try_acquire_at(s.at(secs(30))).unwrap();
    // The probe hangs past the 60 s half-open timeout.
    assert_eq!(s.state(secs(89)), HalfOpen);
    assert_eq!(s.state(secs(90)), Open);
    let refused = s.call(secs(90), OK).unwrap_err();
    // The second trip in a row: the default backoff is fixed at 30 s.
    assert_eq!(refused.retry_after(), Some(secs(30)));
    assert_eq!(s.breaker.stats_at(s.at(secs(90))).trips, 2);
    // Its late success changes nothing.
    probe.record_at(OK, secs(60), s.at(secs(91)));
    assert_eq!(s.state(secs(91)), Open);
}

#[test]
fn a_late_probe_result_times_the_period_out() {
    let s = tripped(1, 1.0);
    let probe = s.breaker.try_acquire_at(s.at(secs(30))).unwrap();
    probe.record_at(OK, secs(61), s.at(secs(91)));
    assert_eq!(s.state(secs(91)), Open);
}

#[test]
fn a_probe_of_an_earlier_period_does_not_decide_the_next() {
    let s = tripped(1, 1.0);
    let stale = s.breaker.try_acquire_at(s.at(secs(30))).unwrap();
    // Times out at 90 s; open until 120 s; half-open again.
    assert!(s.call(secs(90), OK).is_err());
    let current = s.breaker.try_acquire_at(s.at(secs(120))).unwrap();
    stale.record_at(OK, ms(1), s.at(secs(120)));
    assert_eq!(s.state(secs(120)), HalfOpen);
    current.record_at(FAILED, ms(1), s.at(secs(120)));
    assert_eq!(s.state(secs(120)), Open);
}

#[test]
fn slow_probes_fail_when_slow_calls_can_trip() {
    let s = Subject::new(
        quiet()
            .consecutive_failures(1)
            .half_open_probes(1)
            .slow_call_duration(secs(1))
            .slow_call_rate(0.5),
    );
    s.trip(secs(0));
    s.call_taking(secs(30), OK, secs(2)).unwrap();
    assert_eq!(s.state(secs(30)), Open);
}

#[test]
fn retry_after_holds_the_breaker_open() {
    let s = Subject::new(quiet().max_retry_after(secs(120)));
    s.breaker.hold_open(secs(45), s.at(secs(0)));
    assert_eq!(s.state(secs(0)), Open);
    let refused = s.call(secs(5), OK).unwrap_err();
    assert_eq!(refused.retry_after(), Some(secs(40)));
    // A shorter hint does not shorten the period; a longer one extends it.
    s.breaker.hold_open(secs(1), s.at(secs(5)));
    assert_eq!(s.state(secs(44)), Open);
    s.breaker.hold_open(secs(60), s.at(secs(5)));
    assert_eq!(s.state(secs(64)), Open);
    assert_eq!(s.state(secs(65)), HalfOpen);
    // It is not a trip.
    assert_eq!(s.breaker.stats_at(s.at(secs(65))).trips, 0);
}

#[test]
fn retry_after_is_capped_and_can_be_turned_off() {
    let s = Subject::new(quiet().max_retry_after(secs(10)));
    s.breaker.hold_open(secs(3600), s.at(secs(0)));
    assert_eq!(s.state(secs(9)), Open);
    assert_eq!(s.state(secs(10)), HalfOpen);

    let s = Subject::new(quiet().max_retry_after(secs(0)));
    s.breaker.hold_open(secs(30), s.at(secs(0)));
    assert_eq!(s.state(secs(0)), Closed);
}

#[test]
fn retry_after_ends_a_half_open_period() {
    let s = tripped(3, 1.0);
    let probe = s.breaker.try_acquire_at(s.at(secs(30))).unwrap();
    s.breaker.hold_open(secs(20), s.at(secs(31)));
    assert_eq!(s.state(secs(31)), Open);
    probe.record_at(OK, ms(1), s.at(secs(32)));
    assert_eq!(s.state(secs(50)), Open);
    assert_eq!(s.state(secs(51)), HalfOpen);
}

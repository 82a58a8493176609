//! Loom models of the breaker's lock-free paths: recording in the closed
//! state, half-open probe admission, and transitions racing each other.
//!
//! Run from the workspace root with:
//!
//! ```text
//! RUSTFLAGS="--cfg seawall_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p seawall-breaker --release --test loom
//! ```
//!
//! Two-thread models explore every interleaving; three-thread models are
//! bounded to three preemptions unless `LOOM_MAX_PREEMPTIONS` is set. The
//! whole file runs in a few seconds once built. A normal build compiles
//! none of this, nor loom itself.
#![cfg(seawall_loom)]

use std::sync::Arc;
use std::time::Duration;

use loom::thread;
use seawall_breaker::{Breaker, BreakerConfig, BreakerState};
use seawall_core::{FailureKind, Outcome};
use tokio::time::Instant;

const FAILED: Outcome = Outcome::Failure(FailureKind::Error);
const OPEN_FOR: Duration = Duration::from_secs(1);

/// Explores every interleaving of two threads; with three, bounds the
/// preemptions to three (unless `LOOM_MAX_PREEMPTIONS` says otherwise) so
/// the whole file runs in well under a minute on two cores.
fn model<F>(threads: usize, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    if threads > 2 && builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

fn config() -> seawall_breaker::BreakerConfigBuilder {
    BreakerConfig::builder()
        .open_duration(OPEN_FOR)
        .half_open_timeout(Duration::from_secs(60))
}

/// Two failures recorded at once by two threads trip the breaker exactly
/// once, whichever order their atomics land in.
#[test]
fn racing_failures_trip_once() {
    let t0 = Instant::now();
    model(2, move || {
        let config = config()
            .consecutive_failures(2)
            .failure_rate(None)
            .build()
            .unwrap();
        let breaker = Arc::new(Breaker::new_at(&config, t0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let breaker = breaker.clone();
                thread::spawn(move || {
                    let permit = breaker.try_acquire_at(t0).expect("closed");
                    permit.record_at(FAILED, Duration::ZERO, t0);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let stats = breaker.stats_at(t0);
        assert_eq!(stats.state, BreakerState::Open);
        assert_eq!(stats.trips, 1);
        assert_eq!(stats.transitions, 1);
    });
}

/// A success and a failure racing through the count window: the call that
/// lands second sees both, so the 50% failure rate is never missed.
#[test]
fn the_window_misses_no_crossing() {
    let t0 = Instant::now();
    model(2, move || {
        let config = config()
            .count_window(2)
            .minimum_calls(2)
            .failure_rate(0.5)
            .build()
            .unwrap();
        let breaker = Arc::new(Breaker::new_at(&config, t0));
        let threads: Vec<_> = [Outcome::Success, FAILED]
            .into_iter()
            .map(|outcome| {
                let breaker = breaker.clone();
                thread::spawn(move || {
                    let permit = breaker.try_acquire_at(t0).expect("closed");
                    permit.record_at(outcome, Duration::ZERO, t0);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let stats = breaker.stats_at(t0);
        assert_eq!(stats.state, BreakerState::Open);
        assert_eq!(stats.transitions, 1);
        assert_eq!((stats.calls, stats.failures), (2, 1));
    });
}

/// A failure lands in a window full of successes while a success may
/// skip recording (it would replace a success): the failure is never lost,
/// and it trips the breaker once.
#[test]
fn a_skipped_success_never_hides_a_failure() {
    let t0 = Instant::now();
    model(2, move || {
        let config = config()
            .count_window(2)
            .minimum_calls(2)
            .failure_rate(0.5)
            .build()
            .unwrap();
        let breaker = Arc::new(Breaker::new_at(&config, t0));
        for _ in 0..2 {
            let permit = breaker.try_acquire_at(t0).unwrap();
            permit.record_at(Outcome::Success, Duration::ZERO, t0);
        }
        let threads: Vec<_> = [FAILED, Outcome::Success]
            .into_iter()
            .map(|outcome| {
                let breaker = breaker.clone();
                thread::spawn(move || {
                    // The success may come after the trip and be refused.
                    if let Ok(permit) = breaker.try_acquire_at(t0) {
                        permit.record_at(outcome, Duration::ZERO, t0);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let stats = breaker.stats_at(t0);
        assert_eq!(stats.state, BreakerState::Open);
        assert_eq!(stats.transitions, 1);
        assert_eq!((stats.calls, stats.failures), (2, 1));
    });
}

/// Three calls racing through a count window of three, two of them
/// failures: whatever the order, the last to land sees 2 of 3 and trips the
/// breaker, once.
#[test]
fn three_racing_calls_trip_once() {
    let t0 = Instant::now();
    model(3, move || {
        let config = config()
            .count_window(3)
            .minimum_calls(3)
            .failure_rate(0.6)
            .build()
            .unwrap();
        let breaker = Arc::new(Breaker::new_at(&config, t0));
        let threads: Vec<_> = [FAILED, Outcome::Success, FAILED]
            .into_iter()
            .map(|outcome| {
                let breaker = breaker.clone();
                thread::spawn(move || {
                    let permit = breaker.try_acquire_at(t0).expect("closed");
                    permit.record_at(outcome, Duration::ZERO, t0);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let stats = breaker.stats_at(t0);
        assert_eq!(stats.state, BreakerState::Open);
        assert_eq!(stats.transitions, 1);
    });
}

/// Two calls move a time window forward at once, past an old failure. One
/// may still see the failure while the other is expiring it (the window is
/// approximate at its edges), but once both are done the failure is gone
/// from the totals, and no count went below zero or was taken out twice.
#[test]
fn expiry_races_recording_without_drift() {
    let t0 = Instant::now();
    let second = Duration::from_secs(1);
    model(2, move || {
        let config = config()
            .time_window(2 * second, 2)
            .minimum_calls(100)
            .build()
            .unwrap();
        let breaker = Arc::new(Breaker::new_at(&config, t0));
        let permit = breaker.try_acquire_at(t0).unwrap();
        permit.record_at(FAILED, Duration::ZERO, t0);

        let threads: Vec<_> = [2, 3]
            .into_iter()
            .map(|ticks| {
                let breaker = breaker.clone();
                let at = t0 + second * ticks;
                thread::spawn(move || {
                    let permit = breaker.try_acquire_at(at).expect("closed");
                    permit.record_at(Outcome::Success, Duration::ZERO, at);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // At tick 3, the totals; a call may have been lost with a bucket
        // emptied under it, never the failure kept.
        let stats = breaker.stats_at(t0 + second * 3);
        assert_eq!(stats.failures, 0);
        assert!((1..=2).contains(&stats.calls), "calls {}", stats.calls);
        // One more call sees the same totals plus itself.
        let at = t0 + second * 3;
        breaker
            .try_acquire_at(at)
            .unwrap()
            .record_at(FAILED, Duration::ZERO, at);
        let after = breaker.stats_at(at);
        assert_eq!((after.calls, after.failures), (stats.calls + 1, 1));
    });
}

/// Three callers arrive together after the open period, with two probe
/// slots: exactly two are admitted.
#[test]
fn three_callers_two_slots() {
    let t0 = Instant::now();
    let t1 = t0 + OPEN_FOR;
    model(3, move || {
        let config = config()
            .half_open_probes(2)
            .consecutive_failures(1)
            .build()
            .unwrap();
        let breaker = Arc::new(Breaker::new_at(&config, t0));
        let permit = breaker.try_acquire_at(t0).unwrap();
        permit.record_at(FAILED, Duration::ZERO, t0);

        let threads: Vec<_> = (0..3)
            .map(|_| {
                let breaker = breaker.clone();
                thread::spawn(move || breaker.try_acquire_at(t1).ok())
            })
            .collect();
        let probes: Vec<_> = threads
            .into_iter()
            .filter_map(|t| t.join().unwrap())
            .collect();
        assert_eq!(probes.len(), 2);
        let stats = breaker.stats_at(t1);
        assert_eq!(stats.probes_in_flight, 2);
        assert_eq!(stats.transitions, 2);
    });
}

/// Two callers arrive together after the open period, with one probe
/// slot: the breaker turns half-open once and admits exactly one of them;
/// the slot comes back when the winner's probe is cancelled.
#[test]
fn one_probe_slot_one_winner() {
    let t0 = Instant::now();
    let t1 = t0 + OPEN_FOR;
    model(2, move || {
        let config = config()
            .half_open_probes(1)
            .consecutive_failures(1)
            .build()
            .unwrap();
        let breaker = Arc::new(Breaker::new_at(&config, t0));
        let permit = breaker.try_acquire_at(t0).unwrap();
        permit.record_at(FAILED, Duration::ZERO, t0);
        assert_eq!(breaker.state_at(t0), BreakerState::Open);

        let threads: Vec<_> = (0..2)
            .map(|_| {
                let breaker = breaker.clone();
                thread::spawn(move || breaker.try_acquire_at(t1).ok())
            })
            .collect();
        let probes: Vec<_> = threads
            .into_iter()
            .filter_map(|t| t.join().unwrap())
            .collect();
        assert_eq!(probes.len(), 1);
        assert!(probes[0].is_probe());
        let stats = breaker.stats_at(t1);
        assert_eq!(stats.state, BreakerState::HalfOpen);
        assert_eq!(stats.transitions, 2);
        assert_eq!(stats.probes_in_flight, 1);

        drop(probes);
        assert_eq!(breaker.stats_at(t1).probes_in_flight, 0);
        assert!(breaker.try_acquire_at(t1).unwrap().is_probe());
    });
}

/// A probe being cancelled while another caller asks for the only slot:
/// never two probes at once, and the slot is free at the end.
#[test]
fn a_cancelled_probe_frees_its_slot_once() {
    let t0 = Instant::now();
    let t1 = t0 + OPEN_FOR;
    model(2, move || {
        let config = config()
            .half_open_probes(1)
            .consecutive_failures(1)
            .build()
            .unwrap();
        let breaker = Arc::new(Breaker::new_at(&config, t0));
        let permit = breaker.try_acquire_at(t0).unwrap();
        permit.record_at(FAILED, Duration::ZERO, t0);
        let first = breaker.try_acquire_at(t1).expect("the first probe");

        let taker = {
            let breaker = breaker.clone();
            thread::spawn(move || breaker.try_acquire_at(t1).ok())
        };
        let canceller = thread::spawn(move || drop(first));
        canceller.join().unwrap();
        let second = taker.join().unwrap();

        let in_flight = breaker.stats_at(t1).probes_in_flight;
        assert_eq!(in_flight, u32::from(second.is_some()));
        drop(second);
        assert_eq!(breaker.stats_at(t1).probes_in_flight, 0);
    });
}

/// Two probes succeed at once and two are needed: the breaker closes once.
#[test]
fn the_verdict_is_reached_once() {
    let t0 = Instant::now();
    let t1 = t0 + OPEN_FOR;
    model(2, move || {
        let config = config()
            .half_open_probes(2)
            .half_open_success_ratio(1.0)
            .consecutive_failures(1)
            .build()
            .unwrap();
        let breaker = Arc::new(Breaker::new_at(&config, t0));
        let permit = breaker.try_acquire_at(t0).unwrap();
        permit.record_at(FAILED, Duration::ZERO, t0);
        let probes = [
            breaker.try_acquire_at(t1).unwrap(),
            breaker.try_acquire_at(t1).unwrap(),
        ];
        let threads: Vec<_> = probes
            .into_iter()
            .map(|probe| {
                thread::spawn(move || probe.record_at(Outcome::Success, Duration::ZERO, t1))
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let stats = breaker.stats_at(t1);
        assert_eq!(stats.state, BreakerState::Closed);
        // Trip, half-open, close.
        assert_eq!(stats.transitions, 3);
    });
}

/// An operator forcing the breaker open while a failure trips it: the
/// operator's state wins whatever the order, and nothing is lost.
#[test]
fn a_trip_never_undoes_force_open() {
    let t0 = Instant::now();
    model(2, move || {
        let config = config().consecutive_failures(1).build().unwrap();
        let breaker = Arc::new(Breaker::new_at(&config, t0));
        let permit = breaker.try_acquire_at(t0).unwrap();
        let failing = thread::spawn(move || permit.record_at(FAILED, Duration::ZERO, t0));
        let operator = {
            let breaker = breaker.clone();
            thread::spawn(move || breaker.force_open())
        };
        failing.join().unwrap();
        operator.join().unwrap();
        let stats = breaker.stats_at(t0);
        assert_eq!(stats.state, BreakerState::ForcedOpen);
        assert!(stats.transitions == 1 || stats.transitions == 2);
    });
}

//! The breaker against a reference model: random sequences of calls,
//! outcomes, cancellations, `Retry-After` hints, operator actions and time,
//! checked step by step.
//!
//! The model is the rules of the crate docs written the plainest way: a
//! list of recorded calls, a state enum, integer milliseconds. It knows
//! nothing of atomics, packed words or buckets.

mod reference;
mod strategy;

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use seawall_breaker::{Breaker, Permit};
use seawall_core::{FailureKind, Outcome, Rejection};
use tokio::time::Instant;

use reference::{Action, Kind, Model, Op, Rules, Ticket};
use strategy::{build, op, rules};

fn outcome(kind: Kind) -> Outcome {
    match kind {
        Kind::Success => Outcome::Success,
        Kind::Failure => Outcome::Failure(FailureKind::Error),
        Kind::Ignored => Outcome::Ignored,
    }
}

fn check(rules: Rules, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let breaker = Arc::new(Breaker::new_at(&build(&rules), t0));
    let mut model = Model::new(rules.clone());
    let mut held: Vec<(Permit, Ticket)> = Vec::new();
    let mut now = 0u64;

    for (step, op) in ops.into_iter().enumerate() {
        let at = t0 + Duration::from_millis(now);
        match op {
            Op::Acquire => {
                let got = breaker.try_acquire_at(at);
                let want = model.acquire(now);
                match (got, want) {
                    (Ok(permit), Ok(ticket)) => {
                        prop_assert_eq!(permit.is_probe(), matches!(ticket, Ticket::Probe(_)));
                        held.push((permit, ticket));
                    }
                    (Err(refused), Err((retry_ms, forced))) => {
                        prop_assert_eq!(
                            refused.retry_after(),
                            Some(Duration::from_millis(retry_ms))
                        );
                        prop_assert_eq!(refused.is_forced(), forced);
                    }
                    (got, want) => {
                        return Err(TestCaseError::fail(format!(
                            "step {step}: breaker {got:?}, model {want:?}"
                        )))
                    }
                }
            }
            Op::Finish {
                pick,
                outcome: kind,
                elapsed_ms,
            } if !held.is_empty() => {
                let (permit, ticket) = held.swap_remove(pick % held.len());
                permit.record_at(outcome(kind), Duration::from_millis(elapsed_ms), at);
                model.finish(ticket, kind, elapsed_ms, now);
            }
            Op::Cancel { pick } if !held.is_empty() => {
                let (permit, ticket) = held.swap_remove(pick % held.len());
                drop(permit);
                model.cancel(ticket);
            }
            Op::Finish { .. } | Op::Cancel { .. } => {}
            Op::Advance { ms } => now += ms,
            Op::HoldOpen { ms } => {
                breaker.hold_open(Duration::from_millis(ms), at);
                model.hold_open(ms, now);
            }
            Op::Operator(action) => {
                // The handle reads tokio's clock; only time-free actions
                // are compared, so the instant does not matter.
                match action {
                    Action::ForceOpen => breaker.force_open(),
                    Action::ForceClosed => breaker.force_closed(),
                    Action::Disable => breaker.disable(),
                    Action::MetricsOnly => breaker.metrics_only(),
                    Action::Reset => breaker.reset(),
                }
                model.operate(action);
            }
        }

        let at = t0 + Duration::from_millis(now);
        let stats = breaker.stats_at(at);
        let (calls, failures, slow) = model.counts(now);
        let context = format!("step {step}: {stats:?} vs {model:?}");
        prop_assert_eq!(stats.state, model.effective(now), "{}", context);
        prop_assert_eq!(
            (stats.calls, stats.failures, stats.slow_calls),
            (calls, failures, slow),
            "{}",
            context
        );
        prop_assert_eq!(stats.consecutive_failures, model.consecutive, "{}", context);
        prop_assert_eq!(
            stats.probes_in_flight,
            model.probes_in_flight(),
            "{}",
            context
        );
        prop_assert!(stats.probes_in_flight <= rules.probes, "{}", context);
        prop_assert_eq!(
            (stats.trips, stats.shadow_trips, stats.rejected),
            (model.trips, model.shadow_trips, model.rejected),
            "{}",
            context
        );
        prop_assert_eq!(stats.transitions, model.generation, "{}", context);
    }

    // Whatever was left in flight is released by dropping it.
    drop(held);
    let stats = breaker.stats_at(t0 + Duration::from_millis(now));
    prop_assert_eq!(stats.probes_in_flight, 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn the_breaker_agrees_with_the_model(rules in rules(), ops in prop::collection::vec(op(), 100..200)) {
        check(rules, ops)?;
    }
}

//! A property test: the outcome of any (limit, inner delay, deadline)
//! matches a model of a few lines.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use seawall_core::Deadline;
use seawall_timeout::error::{Elapsed, Phase};
use seawall_timeout::TimeoutLayer;
use tokio::time::Instant;
use tower::{service_fn, Layer, ServiceExt};

/// What a call should come to.
#[derive(Debug, PartialEq, Eq)]
enum Expected {
    Answered { after: Duration },
    TimedOut { limit: Duration, by_deadline: bool },
}

/// The model: the tighter of the limit and the deadline applies; a
/// response due with the limit wins; a deadline with nothing left fails
/// before the inner service is called.
fn model(limit: Duration, delay: Duration, deadline: Option<Duration>) -> (Expected, bool) {
    let (effective, by_deadline) = match deadline {
        Some(deadline) if deadline < limit => (deadline, true),
        _ => (limit, false),
    };
    let called = !effective.is_zero();
    let expected = if called && delay <= effective {
        Expected::Answered { after: delay }
    } else {
        Expected::TimedOut {
            limit: effective,
            by_deadline,
        }
    };
    (expected, called)
}

/// Runs one call on a paused clock; returns what became of it, how long it
/// took, and whether the inner service was called.
fn run(limit: Duration, delay: Duration, deadline: Option<Duration>) -> (Expected, Duration, bool) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let inner = service_fn(move |_: Option<Deadline>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(delay).await;
                Ok::<_, Infallible>(())
            }
        });
        let layer = TimeoutLayer::builder()
            .timeout(limit)
            .deadline_from(|request: &Option<Deadline>| *request)
            .build()
            .unwrap();

        let request = deadline.map(Deadline::after);
        let start = Instant::now();
        let result = layer.layer(inner).oneshot(request).await;
        let took = start.elapsed();
        let outcome = match result {
            Ok(()) => Expected::Answered { after: took },
            Err(error) => {
                let elapsed = error.downcast_ref::<Elapsed>().expect("only timeouts fail");
                assert_eq!(elapsed.phase(), Phase::Response);
                Expected::TimedOut {
                    limit: elapsed.limit(),
                    by_deadline: elapsed.is_deadline(),
                }
            }
        };
        (outcome, took, calls.load(Ordering::SeqCst) == 1)
    })
}

fn millis(range: std::ops::RangeInclusive<u64>) -> impl Strategy<Value = Duration> {
    range.prop_map(Duration::from_millis)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn outcome_matches_the_model(
        limit in millis(1..=200),
        delay in millis(0..=300),
        deadline in proptest::option::of(millis(0..=300)),
    ) {
        let (expected, expect_called) = model(limit, delay, deadline);
        let (outcome, took, called) = run(limit, delay, deadline);

        prop_assert_eq!(called, expect_called);
        let expected_time = match &expected {
            Expected::Answered { after } => *after,
            Expected::TimedOut { limit, .. } => *limit,
        };
        prop_assert_eq!(took, expected_time);
        prop_assert_eq!(outcome, expected);
    }
}

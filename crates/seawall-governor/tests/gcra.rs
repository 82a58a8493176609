//! The algorithm on a controlled clock: bursts, the steady rate, exact
//! retry times and the policy a refusal names.

use std::time::Duration;

use seawall_core::rejection::{self, Pattern};
use seawall_governor::{Quota, RateLimitLayer, RateLimited, RateLimiter};
use tokio::time::Instant;
use tokio_test::assert_ready_ok;
use tower_test::mock;

fn limiter(quota: Quota) -> RateLimiter {
    RateLimitLayer::builder()
        .quota(quota)
        .build()
        .unwrap()
        .limiter()
}

fn at(limiter: &RateLimiter, nanos: u64) -> Instant {
    limiter.origin() + Duration::from_nanos(nanos)
}

fn retry_after(refusal: &RateLimited) -> Duration {
    rejection::Rejection::retry_after(refusal).expect("a refusal says when")
}

const MS: u64 = 1_000_000;

#[test]
fn a_burst_then_the_steady_rate() {
    let limiter = limiter(Quota::per_second(10).burst(5));
    for _ in 0..5 {
        limiter.check_at(at(&limiter, 0)).expect("within the burst");
    }
    limiter
        .check_at(at(&limiter, 0))
        .expect_err("the burst is spent");

    // Then exactly one every 100 ms, however hard it is asked.
    for step in 1..=50 {
        let now = at(&limiter, step * 100 * MS);
        limiter.check_at(now).expect("one replenished");
        for _ in 0..3 {
            limiter.check_at(now).expect_err("only one");
        }
    }

    // A quiet spell refills the whole burst, and no more.
    let quiet = at(&limiter, 60_000 * MS);
    assert_eq!(limiter.headroom_at(quiet), Some(5));
    for _ in 0..5 {
        limiter.check_at(quiet).unwrap();
    }
    limiter.check_at(quiet).unwrap_err();
}

#[test]
fn retry_after_is_exact_to_the_nanosecond() {
    let limiter = limiter(Quota::per_second(10).burst(2));
    limiter.check_at(at(&limiter, 0)).unwrap();
    limiter.check_at(at(&limiter, 0)).unwrap();

    let refused = limiter.check_at(at(&limiter, 0)).unwrap_err();
    assert_eq!(retry_after(&refused), Duration::from_millis(100));
    let refused = limiter.check_at(at(&limiter, 37)).unwrap_err();
    assert_eq!(retry_after(&refused), Duration::from_nanos(100 * MS - 37));

    // Coming back exactly when told works.
    let back = 37 + retry_after(&refused).as_nanos() as u64;
    limiter.check_at(at(&limiter, back)).expect("conforms then");
}

#[test]
fn retry_after_is_never_zero_while_limited() {
    let limiter = limiter(Quota::per_second(3).burst(1));
    limiter.check_at(at(&limiter, 0)).unwrap();

    // The interval rounds down: a third of a second is 333_333_333 ns.
    let interval = 333_333_333;
    for now in [0, 1, interval / 2, interval - 2, interval - 1] {
        let refused = limiter.check_at(at(&limiter, now)).unwrap_err();
        let wait = retry_after(&refused);
        assert!(wait > Duration::ZERO, "at {now} ns");
        assert_eq!(wait, Duration::from_nanos(interval - now));
    }
    limiter.check_at(at(&limiter, interval)).unwrap();
}

#[test]
fn the_policy_is_the_burst_and_the_time_to_refill_it() {
    let cases = [
        (Quota::per_second(10), 10, Duration::from_secs(1)),
        (Quota::per_second(3), 3, Duration::from_nanos(999_999_999)),
        (Quota::per_minute(60).burst(10), 10, Duration::from_secs(10)),
        (
            Quota::per_hour(7_200).burst(1),
            1,
            Duration::from_millis(500),
        ),
        (
            Quota::with_period(Duration::from_millis(250)),
            1,
            Duration::from_millis(250),
        ),
        (
            Quota::with_period(Duration::from_millis(250)).burst(4),
            4,
            Duration::from_secs(1),
        ),
    ];
    for (quota, limit, window) in cases {
        let limiter = limiter(quota.clone().named("q"));
        let policy = limiter.global_quotas().next().unwrap().clone();
        assert_eq!(
            (policy.limit(), policy.window()),
            (limit, window),
            "{quota:?}"
        );

        // A client that keeps to `limit` per `window` is never refused.
        for round in 0..3 {
            let now = at(&limiter, round * window.as_nanos() as u64);
            for _ in 0..limit {
                limiter.check_at(now).expect("within the policy");
            }
            let refused = limiter.check_at(now).unwrap_err();
            assert_eq!(refused.policy(), Some(&policy));
        }
    }
}

#[test]
fn a_client_keeping_exactly_to_the_rate_is_never_refused() {
    // A third of a second is not a whole number of nanoseconds; the
    // interval rounds down, so the limit never drifts ahead of the client.
    let bursts = limiter(Quota::per_second(3));
    let steady = limiter(Quota::per_second(7).burst(1));
    for second in 0..2_000u64 {
        let now = at(&bursts, second * 1_000_000_000);
        for _ in 0..3 {
            bursts.check_at(now).expect("3 a second");
        }
    }
    for k in 0..20_000u64 {
        let now = at(&steady, k * 1_000_000_000 / 7);
        steady.check_at(now).expect("one every seventh of a second");
    }
}

#[test]
fn times_before_the_origin_count_as_the_origin() {
    let limiter = limiter(Quota::per_second(1));
    let before = limiter.origin() - Duration::from_secs(5);
    limiter.check_at(before).unwrap();
    let refused = limiter.check_at(before).unwrap_err();
    assert_eq!(retry_after(&refused), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn a_service_refuses_with_the_exact_wait_on_tokio_time() {
    let layer = RateLimitLayer::builder()
        .quota(Quota::per_second(4).burst(1).named("steady"))
        .build()
        .unwrap();
    let (mut service, mut handle) = mock::spawn_layer::<(), (), _>(layer);
    handle.allow(10);

    assert_ready_ok!(service.poll_ready());
    drop(service.call(()));
    tokio::time::advance(Duration::from_millis(60)).await;

    assert_ready_ok!(service.poll_ready());
    let error = service.call(()).await.unwrap_err();
    let refusal = error.downcast_ref::<RateLimited>().expect("a refusal");
    assert_eq!(retry_after(refusal), Duration::from_millis(190));
    assert_eq!(refusal.policy().map(|p| p.name()), Some("steady"));
    assert_eq!(
        rejection::find(&*error).map(|r| r.pattern()),
        Some(Pattern::Governor)
    );

    tokio::time::advance(Duration::from_millis(190)).await;
    assert_ready_ok!(service.poll_ready());
    drop(service.call(()));
    assert!(handle.next_request().await.is_some());
}

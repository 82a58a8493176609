//! Several quotas on one request: all must allow it, and a refusal by one
//! spends none of the others.

use std::time::Duration;

use seawall_core::rejection::Rejection;
use seawall_governor::{KeyedRateLimitLayer, Quota, RateLimitLayer, RateLimiter};
use tokio::time::Instant;

fn at(limiter: &RateLimiter<impl Sized>, secs: u64) -> Instant {
    limiter.origin() + Duration::from_secs(secs)
}

/// A slow quota that a refused request would visibly burn, and a quick one
/// that does the refusing.
fn hourly_and_burst() -> (Quota, Quota) {
    (
        Quota::per_hour(4).named("hourly"),
        Quota::per_second(1).burst(2).named("burst"),
    )
}

#[test]
fn a_refusal_by_a_later_quota_does_not_burn_an_earlier_one() {
    let (hourly, burst) = hourly_and_burst();
    let limiter = RateLimitLayer::builder()
        .quota(hourly)
        .quota(burst)
        .build()
        .unwrap()
        .limiter();

    limiter.check_at(at(&limiter, 0)).unwrap();
    limiter.check_at(at(&limiter, 0)).unwrap();
    for _ in 0..100 {
        let refused = limiter.check_at(at(&limiter, 0)).unwrap_err();
        assert_eq!(refused.policy().unwrap().name(), "burst");
    }

    // The hourly quota still has 2 of its 4: the refusals spent none.
    limiter.check_at(at(&limiter, 1)).unwrap();
    limiter.check_at(at(&limiter, 2)).unwrap();
    let refused = limiter.check_at(at(&limiter, 3)).unwrap_err();
    let policy = refused.policy().unwrap();
    assert_eq!(policy.name(), "hourly");
    // Four went at 0, 0, 1 and 2 s; one comes back every 15 minutes.
    assert_eq!(refused.retry_after(), Some(Duration::from_secs(900 - 3)));
}

#[test]
fn the_refusal_names_the_quota_that_needs_the_longest_wait() {
    let limiter = RateLimitLayer::builder()
        .quota(Quota::per_second(1).named("second"))
        .quota(Quota::per_minute(1).named("minute"))
        .build()
        .unwrap()
        .limiter();
    limiter.check_at(at(&limiter, 0)).unwrap();

    // Both refuse; the minute is the one to wait for.
    let refused = limiter.check_at(at(&limiter, 0)).unwrap_err();
    assert_eq!(refused.policy().unwrap().name(), "minute");
    assert_eq!(refused.retry_after(), Some(Duration::from_secs(60)));
    limiter.check_at(at(&limiter, 59)).unwrap_err();
    limiter.check_at(at(&limiter, 60)).unwrap();
}

fn keyed(global: Quota, per_key: Quota) -> RateLimiter<&'static str> {
    let layer: KeyedRateLimitLayer<_, &'static str> = RateLimitLayer::builder()
        .quota(global)
        .key_by(|key: &&'static str| Some(*key))
        .key_quota(per_key)
        .build()
        .unwrap();
    layer.limiter()
}

#[test]
fn a_global_refusal_does_not_burn_the_key() {
    let limiter = keyed(
        Quota::per_second(1).burst(2).named("global"),
        Quota::per_hour(3).named("per_key"),
    );
    limiter.check_key_at(&"a", at(&limiter, 0)).unwrap();
    limiter.check_key_at(&"b", at(&limiter, 0)).unwrap();
    for _ in 0..10 {
        let refused = limiter.check_key_at(&"a", at(&limiter, 0)).unwrap_err();
        assert_eq!(refused.policy().unwrap().name(), "global");
    }
    assert_eq!(limiter.key_headroom_at(&"a", at(&limiter, 0)), Some(2));
}

#[test]
fn a_key_refusal_does_not_burn_the_global_quota() {
    let limiter = keyed(
        Quota::per_hour(3).named("global"),
        Quota::per_second(1).named("per_key"),
    );
    limiter.check_key_at(&"a", at(&limiter, 0)).unwrap();
    for _ in 0..10 {
        let refused = limiter.check_key_at(&"a", at(&limiter, 0)).unwrap_err();
        assert_eq!(refused.policy().unwrap().name(), "per_key");
    }
    assert_eq!(limiter.headroom_at(at(&limiter, 0)), Some(2));
    limiter.check_key_at(&"b", at(&limiter, 0)).unwrap();
    limiter.check_key_at(&"c", at(&limiter, 0)).unwrap();
    let refused = limiter.check_key_at(&"d", at(&limiter, 0)).unwrap_err();
    assert_eq!(refused.policy().unwrap().name(), "global");
}

#[test]
fn a_keyed_limiter_checks_global_quotas_alone_without_a_key() {
    let limiter = keyed(Quota::per_second(1).named("global"), Quota::per_second(1));
    limiter.check_at(at(&limiter, 0)).unwrap();
    let refused = limiter.check_key_at(&"a", at(&limiter, 0)).unwrap_err();
    assert_eq!(refused.policy().unwrap().name(), "global");
    assert_eq!(limiter.key_headroom_at(&"a", at(&limiter, 0)), Some(1));
}

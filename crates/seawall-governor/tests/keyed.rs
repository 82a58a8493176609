//! Keyed limits: isolation, requests without a key, and eviction.

use std::time::Duration;

use seawall_core::rejection;
use seawall_governor::error::KeyUnavailable;
use seawall_governor::{KeyedRateLimitLayer, MissingKey, Quota, RateLimitLayer, RateLimited};
use tokio::time::Instant;
use tokio_test::assert_ready_ok;
use tower_test::mock;

type Request = Option<u32>;

fn by_key(request: &Request) -> Option<u32> {
    *request
}

fn layer(quota: Quota, capacity: usize) -> KeyedRateLimitLayer<fn(&Request) -> Option<u32>, u32> {
    RateLimitLayer::builder()
        .key_by(by_key as fn(&Request) -> Option<u32>)
        .key_quota(quota)
        .capacity(capacity)
        .build()
        .unwrap()
}

fn secs(layer: &KeyedRateLimitLayer<fn(&Request) -> Option<u32>, u32>, secs: u64) -> Instant {
    layer.limiter().origin() + Duration::from_secs(secs)
}

#[test]
fn each_key_has_its_own_quota() {
    let layer = layer(Quota::per_second(1).burst(2), 100);
    let limiter = layer.limiter();
    let now = secs(&layer, 0);
    limiter.check_key_at(&1, now).unwrap();
    limiter.check_key_at(&1, now).unwrap();
    limiter.check_key_at(&1, now).unwrap_err();

    // Key 2 is untouched by key 1's exhaustion.
    limiter.check_key_at(&2, now).unwrap();
    limiter.check_key_at(&2, now).unwrap();
    limiter.check_key_at(&2, now).unwrap_err();
    assert_eq!(limiter.keys(), 2);
    assert_eq!(
        limiter.key_headroom_at(&3, now),
        Some(2),
        "a new key is full"
    );
}

#[tokio::test(start_paused = true)]
async fn a_service_limits_each_key_and_leaves_refused_requests_uncalled() {
    let layer = layer(Quota::per_second(1), 100);
    let (mut service, mut handle) = mock::spawn_layer::<Request, (), _>(layer);

    assert_ready_ok!(service.poll_ready());
    let admitted = service.call(Some(7));
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(request, Some(7));
    send.send_response(());
    admitted.await.unwrap();

    assert_ready_ok!(service.poll_ready());
    let error = service.call(Some(7)).await.unwrap_err();
    assert!(error.is::<RateLimited>(), "{error}");
    assert_ready_ok!(service.poll_ready());
    let other = service.call(Some(8));
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(
        request,
        Some(8),
        "the refused request never reached the inner"
    );
    send.send_response(());
    other.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_missing_key_is_refused_by_default() {
    let layer = RateLimitLayer::builder()
        .name("api")
        .key_by(by_key)
        .key_quota(Quota::per_second(1))
        .build()
        .unwrap();
    let limiter = layer.limiter();
    let (mut service, mut handle) = mock::spawn_layer::<Request, (), _>(layer);
    assert_ready_ok!(service.poll_ready());
    let error = service.call(None).await.unwrap_err();
    let missing = error
        .downcast_ref::<KeyUnavailable>()
        .expect("KeyUnavailable");
    assert_eq!(missing.name(), "api");
    assert_eq!(
        error.to_string(),
        "no rate limit key in the request for \"api\""
    );
    assert!(rejection::find(&*error).is_none(), "not a rate refusal");
    assert_eq!(limiter.refused(), 1);
    assert!(tokio_test::task::spawn(handle.next_request())
        .poll()
        .is_pending());
}

#[tokio::test(start_paused = true)]
async fn a_missing_key_may_pass_under_the_global_quotas() {
    let layer = RateLimitLayer::builder()
        .quota(Quota::per_second(1).burst(2))
        .key_by(by_key)
        .key_quota(Quota::per_hour(1))
        .on_missing_key(MissingKey::Allow)
        .build()
        .unwrap();
    let (mut service, mut handle) = mock::spawn_layer::<Request, (), _>(layer);
    for _ in 0..2 {
        assert_ready_ok!(service.poll_ready());
        let response = service.call(None);
        let (_, send) = handle.next_request().await.unwrap();
        send.send_response(());
        response.await.unwrap();
    }
    assert_ready_ok!(service.poll_ready());
    let error = service.call(None).await.unwrap_err();
    assert_eq!(
        error
            .downcast_ref::<RateLimited>()
            .unwrap()
            .policy()
            .unwrap()
            .name(),
        "global"
    );
}

#[test]
fn a_missing_key_may_share_a_fallback_key() {
    let layer = RateLimitLayer::builder()
        .key_by(by_key)
        .key_quota(Quota::per_minute(1))
        .on_missing_key(MissingKey::Fallback(0))
        .build()
        .unwrap();
    let limiter = layer.limiter();
    let now = limiter.origin();
    limiter.check_key_at(&0, now).unwrap();
    // Keyless requests are key 0, so the next is refused.
    let (mut service, _handle) = mock::spawn_layer::<Request, (), _>(layer);
    assert_ready_ok!(service.poll_ready());
    let error = futures_ready(service.call(None)).unwrap_err();
    assert!(error.is::<RateLimited>());
}

#[test]
fn idle_keys_go_first_and_a_limited_key_is_not_forgiven() {
    let layer = layer(Quota::per_second(1).burst(2), 4);
    let limiter = layer.limiter();

    // Key 1 spends its burst (limited); keys 2..=4 make one request each.
    limiter.check_key_at(&1, secs(&layer, 0)).unwrap();
    limiter.check_key_at(&1, secs(&layer, 0)).unwrap();
    for key in 2..=4 {
        limiter.check_key_at(&key, secs(&layer, 0)).unwrap();
    }
    // At 1 s keys 2..=4 are idle again; key 1 is still limited.
    let now = secs(&layer, 1);
    limiter.check_key_at(&1, now).unwrap();
    limiter.check_key_at(&1, now).unwrap_err();

    limiter.check_key_at(&5, now).unwrap();
    assert_eq!(limiter.keys(), 2, "every idle key went at once");
    assert_eq!(limiter.evicted(), 3);
    limiter
        .check_key_at(&1, now)
        .expect_err("key 1 was not forgiven");
}

#[test]
fn without_idle_keys_the_least_indebted_go_first() {
    let layer = layer(Quota::per_second(1).burst(8), 4);
    let limiter = layer.limiter();
    let now = secs(&layer, 0);
    // Key k spends k of its 8; key 4 spends all of them.
    for key in 1..=4u32 {
        let spend = if key == 4 { 8 } else { key };
        for _ in 0..spend {
            limiter.check_key_at(&key, now).unwrap();
        }
    }
    limiter.check_key_at(&4, now).unwrap_err();

    for fresh in 10..13 {
        limiter.check_key_at(&fresh, now).unwrap();
        assert!(limiter.keys() <= 4);
    }
    // The key in least debt went each time: key 1, then each newcomer
    // made room for the next. Keys 2 and 3 kept their debts, and the
    // limited key stayed limited.
    assert_eq!(limiter.evicted(), 3);
    assert_eq!(limiter.key_headroom_at(&1, now), Some(8), "forgotten");
    assert_eq!(limiter.key_headroom_at(&2, now), Some(6));
    assert_eq!(limiter.key_headroom_at(&3, now), Some(5));
    limiter.check_key_at(&4, now).expect_err("still limited");
}

#[test]
fn a_flood_of_new_keys_stays_within_the_capacity() {
    let layer = layer(Quota::per_second(1).burst(10), 1_000);
    let limiter = layer.limiter();
    let now = secs(&layer, 0);
    for _ in 0..10 {
        limiter.check_key_at(&u32::MAX, now).unwrap();
    }

    for key in 0..100_000 {
        limiter.check_key_at(&key, now).unwrap();
        assert!(limiter.keys() <= 1_000, "{} keys", limiter.keys());
    }
    assert_eq!(limiter.keys() as u64 + limiter.evicted(), 100_001);
    // Every flooding key owes 1 s, the attacker 10 s: it is never the one
    // in least debt, so it stays limited.
    limiter.check_key_at(&u32::MAX, now).unwrap_err();
}

/// Polls a future that is ready on its first poll.
fn futures_ready<F: std::future::Future>(future: F) -> F::Output {
    let mut task = tokio_test::task::spawn(future);
    match task.poll() {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("not ready"),
    }
}

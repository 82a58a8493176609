//! Waiting mode: back pressure up to a bound, with jitter.

use std::time::Duration;

use seawall_core::rejection::Rejection;
use seawall_governor::{Quota, RateLimit, RateLimitLayer, RateLimited};
use tokio_test::{assert_pending, assert_ready_ok};
use tower_test::mock::{self, Mock, Spawn};

type Service = Spawn<RateLimit<Mock<(), ()>>>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One request every 100 ms, one at a time, waiting up to `bound`.
fn layer(bound: Duration, jitter: Option<Duration>) -> RateLimitLayer {
    let mut builder = RateLimitLayer::builder()
        .quota(Quota::per_second(10).burst(1))
        .wait(bound)
        .jitter_seed(7);
    if let Some(jitter) = jitter {
        builder = builder.jitter(jitter);
    }
    builder.build().unwrap()
}

fn services(layer: &RateLimitLayer, count: usize) -> (Vec<Service>, mock::Handle<(), ()>) {
    let (inner, handle) = mock::pair::<(), ()>();
    let services = (0..count)
        .map(|_| Spawn::new(tower_layer::Layer::layer(layer, inner.clone())))
        .collect();
    (services, handle)
}

/// Advances time a millisecond at a time until `service` is ready;
/// returns how long that took.
async fn time_until_ready(service: &mut Service) -> Duration {
    let mut waited = Duration::ZERO;
    while service.poll_ready().is_pending() {
        tokio::time::advance(ms(1)).await;
        waited += ms(1);
        assert!(waited < ms(10_000), "never ready");
    }
    waited
}

#[tokio::test(start_paused = true)]
async fn a_request_waits_for_its_slot_woken_by_the_timer() {
    let layer = layer(ms(250), None);
    let (mut services, _handle) = services(&layer, 2);
    let [first, second] = &mut services[..] else {
        unreachable!()
    };

    assert_ready_ok!(first.poll_ready(), "the first needs no wait");
    drop(first.call(()));

    assert_pending!(second.poll_ready());
    tokio::time::advance(ms(99)).await;
    assert!(!second.is_woken());
    assert_pending!(second.poll_ready());
    tokio::time::advance(ms(1)).await;
    assert!(second.is_woken(), "the timer wakes the waiting task");
    assert_ready_ok!(second.poll_ready());
    drop(second.call(()));
}

#[tokio::test(start_paused = true)]
async fn a_wait_longer_than_the_bound_is_refused_at_once() {
    let layer = layer(ms(250), None);
    let (mut services, _handle) = services(&layer, 4);

    assert_ready_ok!(services[0].poll_ready());
    assert_pending!(services[1].poll_ready(), "slot at 100 ms");
    assert_pending!(services[2].poll_ready(), "slot at 200 ms");

    // The fourth would need 300 ms: refused now, without waiting.
    assert_ready_ok!(services[3].poll_ready());
    let error = services[3].call(()).await.unwrap_err();
    let refused = error.downcast_ref::<RateLimited>().unwrap();
    assert_eq!(refused.retry_after(), Some(ms(300)));

    // The reserved slots are kept.
    assert_eq!(time_until_ready(&mut services[1]).await, ms(100));
    assert_eq!(time_until_ready(&mut services[2]).await, ms(100));
}

#[tokio::test(start_paused = true)]
async fn jitter_spreads_waits_within_the_documented_range() {
    // w = 100 ms, so j is drawn from 0..=min(50 ms, 250 ms - 100 ms).
    let layer = layer(ms(250), Some(ms(50)));
    let (mut services, _handle) = services(&layer, 41);
    let mut waits = Vec::new();
    for pair in 0..20 {
        // A full bucket each round: one goes at once, the next waits.
        tokio::time::advance(Duration::from_secs(1)).await;
        let (first, rest) = services[2 * pair..].split_first_mut().unwrap();
        assert_ready_ok!(first.poll_ready(), "no wait, no jitter");
        drop(first.call(()));
        waits.push(time_until_ready(&mut rest[0]).await);
    }
    for wait in &waits {
        assert!((ms(100)..=ms(150)).contains(wait), "{wait:?}");
    }
    let mut distinct = waits.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() >= 5, "jitter spreads: {waits:?}");
}

#[tokio::test(start_paused = true)]
async fn jitter_never_takes_a_wait_past_the_bound() {
    // A jitter far larger than the bound is clamped to what is left of it.
    let layer = layer(ms(150), Some(Duration::from_secs(10)));
    let (mut services, _handle) = services(&layer, 40);
    for pair in 0..20 {
        tokio::time::advance(Duration::from_secs(1)).await;
        let (first, rest) = services[2 * pair..].split_first_mut().unwrap();
        assert_ready_ok!(first.poll_ready());
        drop(first.call(()));
        let wait = time_until_ready(&mut rest[0]).await;
        assert!((ms(100)..=ms(150)).contains(&wait), "{wait:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_jittered_slot_pushes_the_next_one_back() {
    // Jitter moves the request, and the quota counts it where it went:
    // the next request is a full interval after it, never bunched up.
    let layer = layer(ms(1_000), Some(ms(300)));
    let (mut services, _handle) = services(&layer, 3);
    assert_ready_ok!(services[0].poll_ready());
    drop(services[0].call(()));
    let first = time_until_ready(&mut services[1]).await;
    drop(services[1].call(()));
    let second = time_until_ready(&mut services[2]).await;
    assert!(first > ms(101), "this seed draws a jitter: {first:?}");
    // Counted at its slot, the first leaves the next a whole interval
    // (less the millisecond the timer may round up by); counted before
    // its jitter, it would have left it none.
    assert!(second >= ms(99), "{first:?} then {second:?}");
}

#[tokio::test(start_paused = true)]
async fn dropping_the_last_waiter_gives_its_slot_back() {
    let layer = layer(ms(250), None);
    let (mut services, _handle) = services(&layer, 3);
    assert_ready_ok!(services[0].poll_ready());
    drop(services[0].call(()));
    assert_pending!(services[1].poll_ready(), "slot at 100 ms");

    drop(services.remove(1));
    // The next waiter gets the 100 ms slot, not the one after.
    assert_eq!(time_until_ready(&mut services[1]).await, ms(100));
}

#[tokio::test(start_paused = true)]
async fn dropping_a_waiter_in_the_middle_leaves_its_slot_spent() {
    let layer = layer(ms(250), None);
    let (mut services, _handle) = services(&layer, 4);
    assert_ready_ok!(services[0].poll_ready());
    assert_pending!(services[1].poll_ready(), "slot at 100 ms");
    assert_pending!(services[2].poll_ready(), "slot at 200 ms");

    // Giving the 100 ms slot back would put the next request at 200 ms,
    // beside the one already there. It stays spent instead.
    drop(services.remove(1));
    assert_ready_ok!(services[2].poll_ready());
    let error = services[2].call(()).await.unwrap_err();
    let refused = error.downcast_ref::<RateLimited>().unwrap();
    assert_eq!(refused.retry_after(), Some(ms(300)));
}

#[tokio::test(start_paused = true)]
async fn a_waiting_service_that_is_unwrapped_gives_its_slot_back() {
    let layer = layer(ms(250), None);
    let (mut services, _handle) = services(&layer, 3);
    assert_ready_ok!(services[0].poll_ready());
    drop(services[0].call(()));
    assert_pending!(services[1].poll_ready());

    let waiting = services.remove(1);
    let _inner = waiting.into_inner().into_inner();
    assert_eq!(time_until_ready(&mut services[1]).await, ms(100));
}

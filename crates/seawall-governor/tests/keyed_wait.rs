//! Keyed waits: a request waits in its response future for its key's
//! slot, other keys pass meanwhile, the bound and jitter hold, and a
//! dropped wait never reaches the inner service.

use std::time::Duration;

use seawall_core::rejection::Rejection;
use seawall_governor::mode::Wait;
use seawall_governor::{KeyedRateLimitLayer, Quota, RateLimitLayer, RateLimited};
use tokio::time::Instant;
use tokio_test::{assert_pending, assert_ready, assert_ready_ok, task};
use tower::{service_fn, Service, ServiceExt};
use tower_layer::Layer;
use tower_test::mock::{self, Spawn};

type ByValue = fn(&u32) -> Option<u32>;
type Waiting = KeyedRateLimitLayer<ByValue, u32, Wait>;

fn by_value(request: &u32) -> Option<u32> {
    Some(*request)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One request a second per key, one at a time, waiting up to `bound`.
fn layer(bound: Duration) -> Waiting {
    RateLimitLayer::builder()
        .key_by(by_value as ByValue)
        .key_quota(Quota::per_second(1).burst(1))
        .wait(bound)
        .build()
        .unwrap()
}

/// A service that answers with the moment it was called.
fn stamp(
) -> impl Service<u32, Response = Instant, Error = std::io::Error, Future = impl Send> + Clone {
    service_fn(|_: u32| async { Ok(Instant::now()) })
}

#[tokio::test(start_paused = true)]
async fn a_request_waits_in_its_future_while_other_keys_pass() {
    let (inner, mut handle) = mock::pair::<u32, ()>();
    let mut service = Spawn::new(layer(ms(5_000)).layer(inner));

    assert_ready_ok!(service.poll_ready());
    let first = service.call(1);
    assert_eq!(handle.next_request().await.unwrap().0, 1, "no wait");
    drop(first);

    // Key 1's second request waits a second, in its future: the inner
    // service has not seen it.
    assert_ready_ok!(service.poll_ready());
    let mut waiting = task::spawn(service.call(1));
    assert_pending!(waiting.poll());
    {
        let mut next = task::spawn(handle.next_request());
        assert_pending!(next.poll(), "not sent before its slot");
    }

    // The service is ready for the next request at once, and key 2 is
    // not held up behind key 1.
    assert_ready_ok!(service.poll_ready());
    let other = service.call(2);
    assert_eq!(handle.next_request().await.unwrap().0, 2);
    drop(other);

    tokio::time::advance(ms(999)).await;
    assert!(!waiting.is_woken());
    assert_pending!(waiting.poll());
    tokio::time::advance(ms(1)).await;
    assert!(waiting.is_woken(), "the timer wakes the waiting request");
    assert_pending!(waiting.poll(), "sent, waiting for the answer");
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(request, 1);
    send.send_response(());
    assert_ready_ok!(waiting.poll());
}

#[tokio::test(start_paused = true)]
async fn waits_queue_one_interval_apart() {
    let mut client = layer(ms(5_000)).layer(stamp());
    let start = Instant::now();
    let a = client.ready().await.unwrap().call(7);
    let b = client.ready().await.unwrap().call(7);
    let c = client.ready().await.unwrap().call(7);
    let d = client.ready().await.unwrap().call(7);
    let sent = tokio::join!(a, b, c, d);
    let offsets = [sent.0, sent.1, sent.2, sent.3].map(|at| at.unwrap() - start);
    assert_eq!(offsets, [ms(0), ms(1_000), ms(2_000), ms(3_000)]);
}

#[tokio::test(start_paused = true)]
async fn a_wait_longer_than_the_bound_is_refused_at_once() {
    let (inner, mut handle) = mock::pair::<u32, ()>();
    let mut service = Spawn::new(layer(ms(2_000)).layer(inner));

    let mut admitted = Vec::new();
    for _ in 0..3 {
        assert_ready_ok!(service.poll_ready());
        admitted.push(service.call(1));
    }
    // The fourth would need 3 s: refused now, with the exact wait, and the
    // inner service never sees it.
    assert_ready_ok!(service.poll_ready());
    let mut refused = task::spawn(service.call(1));
    let error = assert_ready!(refused.poll()).unwrap_err();
    let limited = error.downcast_ref::<RateLimited>().expect("a refusal");
    assert_eq!(limited.retry_after(), Some(ms(3_000)));

    assert_eq!(handle.next_request().await.unwrap().0, 1);
    let mut next = task::spawn(handle.next_request());
    assert_pending!(next.poll(), "only the first was sent");
}

#[tokio::test(start_paused = true)]
async fn a_dropped_wait_never_calls_the_inner_service_and_keeps_its_slot() {
    let (inner, mut handle) = mock::pair::<u32, ()>();
    let mut service = Spawn::new(layer(ms(5_000)).layer(inner));

    assert_ready_ok!(service.poll_ready());
    drop(service.call(1));
    assert_eq!(handle.next_request().await.unwrap().0, 1);
    assert_ready_ok!(service.poll_ready());
    let waiting = service.call(1);
    drop(waiting);

    tokio::time::advance(ms(1_000)).await;
    {
        let mut next = task::spawn(handle.next_request());
        assert_pending!(next.poll(), "the dropped request was never sent");
    }

    // Its slot (1 s) stays spent: the next request of the key, at 1 s,
    // waits for the slot after it, at 2 s.
    assert_ready_ok!(service.poll_ready());
    let mut later = task::spawn(service.call(1));
    assert_pending!(later.poll());
    tokio::time::advance(ms(999)).await;
    assert_pending!(later.poll());
    tokio::time::advance(ms(1)).await;
    assert_pending!(later.poll());
    assert_eq!(handle.next_request().await.unwrap().0, 1);
}

#[tokio::test(start_paused = true)]
async fn a_global_quota_can_make_a_new_key_wait_and_burns_nothing() {
    // Each key gets one a second; all keys together ten a second.
    let layer: Waiting = RateLimitLayer::builder()
        .quota(Quota::per_second(10).burst(1))
        .key_by(by_value as ByValue)
        .key_quota(Quota::per_second(1).burst(1))
        .wait(ms(500))
        .build()
        .unwrap();
    let limiter = layer.limiter();
    let mut client = layer.layer(stamp());
    let start = Instant::now();

    let first = client.ready().await.unwrap().call(1).await.unwrap();
    // Key 2 is fresh, but the global quota's next slot is at 100 ms.
    let second = client.ready().await.unwrap().call(2).await.unwrap();
    assert_eq!((first - start, second - start), (ms(0), ms(100)));

    // Key 1 would need 900 ms more, past the bound: refused, and the
    // global quota is not charged for it.
    let error = client.ready().await.unwrap().call(1).await.unwrap_err();
    assert!(error.is::<RateLimited>());
    assert_eq!(limiter.headroom_at(start + ms(200)), Some(1));
}

#[tokio::test(start_paused = true)]
async fn jitter_spreads_keyed_waits_within_the_bound() {
    // w = 100 ms; j is drawn from 0..=min(300 ms, 250 ms - 100 ms).
    let layer: Waiting = RateLimitLayer::builder()
        .key_by(by_value as ByValue)
        .key_quota(Quota::per_second(10).burst(1))
        .wait(ms(250))
        .jitter(ms(300))
        .jitter_seed(11)
        .build()
        .unwrap();
    let mut client = layer.layer(stamp());
    let mut waits = Vec::new();
    for key in 0..20 {
        let first = client.ready().await.unwrap().call(key).await.unwrap();
        let second = client.ready().await.unwrap().call(key).await.unwrap();
        waits.push(second - first);
    }
    for wait in &waits {
        assert!((ms(100)..=ms(250)).contains(wait), "{wait:?}");
    }
    let mut distinct = waits.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() >= 5, "jitter spreads: {waits:?}");
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "KeyedRateLimit::call called before poll_ready")]
async fn a_waiting_keyed_call_before_ready_panics() {
    let (inner, _handle) = mock::pair::<u32, ()>();
    let mut service = layer(ms(1_000)).layer(inner);
    drop(service.call(1));
}

#[test]
fn waiting_futures_and_services_are_send() {
    fn send_sync<T: Send + Sync + 'static>() {}
    fn future_is_send<S>(_: &S)
    where
        S: Service<u32> + Send + 'static,
        S::Future: Send + 'static,
    {
    }
    let client = layer(ms(1_000)).layer(stamp());
    future_is_send(&client);
    send_sync::<Waiting>();
}

#[test]
fn a_keyed_wait_is_checked() {
    let zero = RateLimitLayer::builder()
        .key_by::<ByValue, u32>(by_value)
        .key_quota(Quota::per_second(1))
        .wait(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(zero.field(), "wait");

    // Told before key_by, a wait would silently shed: it is an error that
    // says where the wait goes.
    let misplaced = RateLimitLayer::builder()
        .wait(Duration::from_secs(1))
        .key_by::<ByValue, u32>(by_value)
        .key_quota(Quota::per_second(1))
        .build()
        .unwrap_err();
    assert_eq!(misplaced.field(), "wait");
    assert!(
        misplaced.to_string().contains("after key_by"),
        "{misplaced}"
    );
}

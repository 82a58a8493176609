//! The tower Service contract, for both services.

use std::time::Duration;

use seawall_core::rejection;
use seawall_core::BoxError;
use seawall_governor::{
    KeyedRateLimit, KeyedRateLimitLayer, Quota, RateLimit, RateLimitLayer, RateLimited,
};
use seawall_test_support::service::{Broken, Probe};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok};
use tower_layer::Layer;
use tower_test::mock::{self, Spawn};

type Mock = mock::Mock<u32, u32>;
type Handle = mock::Handle<u32, u32>;
type ByValue = fn(&u32) -> Option<u32>;

fn one_at_a_time() -> RateLimitLayer {
    RateLimitLayer::new(Quota::per_second(1))
}

fn keyed_layer() -> KeyedRateLimitLayer<ByValue, u32> {
    RateLimitLayer::builder()
        .key_by((|n: &u32| Some(*n)) as ByValue)
        .key_quota(Quota::per_second(1))
        .build()
        .unwrap()
}

fn direct() -> (Spawn<RateLimit<Mock>>, Handle) {
    mock::spawn_layer(one_at_a_time())
}

fn limited(error: BoxError) -> RateLimited {
    error
        .downcast_ref::<RateLimited>()
        .unwrap_or_else(|| panic!("expected RateLimited, got {error}"))
        .clone()
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "RateLimit::call called before poll_ready")]
async fn call_before_ready_panics() {
    let (mut service, _handle) = direct();
    drop(service.call(1));
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "KeyedRateLimit::call called before poll_ready")]
async fn a_keyed_call_before_ready_panics() {
    let (mut service, _handle) = mock::spawn_layer::<u32, u32, _>(keyed_layer());
    drop(service.call(1));
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "called before poll_ready")]
async fn a_second_call_needs_a_second_poll_ready() {
    let layer = RateLimitLayer::new(Quota::per_second(5));
    let (mut service, _handle) = mock::spawn_layer::<u32, u32, _>(layer);
    assert_ready_ok!(service.poll_ready());
    let _first = service.call(1);
    drop(service.call(2));
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "called before poll_ready")]
async fn calling_while_still_waiting_panics() {
    let layer = RateLimitLayer::builder()
        .quota(Quota::per_second(1))
        .wait(Duration::from_secs(2))
        .build()
        .unwrap();
    let (mut service, _handle) = mock::spawn_layer::<u32, u32, _>(layer);
    assert_ready_ok!(service.poll_ready());
    drop(service.call(1));
    assert_pending!(service.poll_ready());
    drop(service.call(2));
}

#[tokio::test(start_paused = true)]
async fn clones_start_unreserved_and_share_the_limit() {
    let (mut first, mut handle) = direct();
    assert_ready_ok!(first.poll_ready());

    // The clone neither copies the admission nor gets one of its own.
    let mut second = first.clone();
    assert_ready_ok!(second.poll_ready(), "shedding is always ready");
    limited(second.call(2).await.unwrap_err());

    // The first still holds its admission.
    let response = first.call(1);
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(request, 1);
    send.send_response(10);
    assert_eq!(response.await.unwrap(), 10);
}

#[tokio::test(start_paused = true)]
async fn services_from_separate_layer_calls_share_one_limit() {
    let layer = one_at_a_time();
    let (inner, _handle) = mock::pair::<u32, u32>();
    let mut a = Spawn::new(layer.layer(inner.clone()));
    let mut b = Spawn::new(layer.layer(inner));
    assert_ready_ok!(a.poll_ready());
    drop(a.call(1));
    assert_ready_ok!(b.poll_ready());
    limited(b.call(2).await.unwrap_err());

    let keyed = keyed_layer();
    let (inner, _handle) = mock::pair::<u32, u32>();
    let mut a = Spawn::new(keyed.layer(inner.clone()));
    let mut b = Spawn::new(keyed.clone().layer(inner));
    assert_ready_ok!(a.poll_ready());
    drop(a.call(7));
    assert_ready_ok!(b.poll_ready());
    limited(b.call(7).await.unwrap_err());
}

#[tokio::test(start_paused = true)]
async fn dropping_a_reserved_service_gives_its_admission_back() {
    let layer = one_at_a_time();
    let limiter = layer.limiter();
    let (mut service, _handle) = mock::spawn_layer::<u32, u32, _>(layer);
    assert_ready_ok!(service.poll_ready());
    assert_eq!(limiter.headroom(), Some(0), "poll_ready counts the request");
    drop(service);
    assert_eq!(limiter.headroom(), Some(1));
}

#[tokio::test(start_paused = true)]
async fn into_inner_gives_the_admission_back() {
    let layer = one_at_a_time();
    let limiter = layer.limiter();
    let (mut service, _handle) = mock::spawn_layer::<u32, u32, _>(layer);
    assert_ready_ok!(service.poll_ready());
    let _inner = service.into_inner().into_inner();
    assert_eq!(limiter.headroom(), Some(1));
}

#[tokio::test(start_paused = true)]
async fn dropping_the_response_future_keeps_the_request_counted() {
    let layer = one_at_a_time();
    let limiter = layer.limiter();
    let (mut service, _handle) = mock::spawn_layer::<u32, u32, _>(layer);
    assert_ready_ok!(service.poll_ready());
    drop(service.call(1));
    assert_eq!(limiter.headroom(), Some(0));
}

#[tokio::test(start_paused = true)]
async fn a_refusal_never_touches_the_inner_service() {
    let layer = one_at_a_time();
    let probe = Probe::default();
    let mut first = Spawn::new(layer.layer(probe.clone()));
    let mut refused = Spawn::new(layer.layer(probe.clone()));
    assert_ready_ok!(first.poll_ready());
    assert_eq!(probe.polls(), 1);

    assert_ready_ok!(refused.poll_ready());
    assert_eq!(probe.polls(), 1, "refused before polling the inner");
    limited(refused.call(()).await.unwrap_err());
    assert_eq!(probe.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_pending_inner_service_keeps_the_admission() {
    let (mut service, mut handle) = direct();
    let limiter = service.get_ref().limiter().clone();
    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert_eq!(limiter.headroom(), Some(0));

    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
    assert_eq!(limiter.headroom(), Some(0), "still the one admission");
    drop(service.call(1));
}

#[tokio::test(start_paused = true)]
async fn an_inner_readiness_error_passes_through_and_gives_back() {
    let (mut service, mut handle) = direct();
    let limiter = service.get_ref().limiter().clone();
    handle.send_error(Broken);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Broken>(), "not re-wrapped: {error}");
    assert_eq!(limiter.headroom(), Some(1));

    let (mut keyed, mut handle) = mock::spawn_layer::<u32, u32, _>(keyed_layer());
    handle.send_error(Broken);
    let error = assert_ready_err!(keyed.poll_ready());
    assert!(error.is::<Broken>(), "not re-wrapped: {error}");
}

#[tokio::test(start_paused = true)]
async fn inner_errors_pass_through_unchanged() {
    let (mut service, mut handle) = direct();
    assert_ready_ok!(service.poll_ready());
    let response = service.call(1);
    let (_, send) = handle.next_request().await.unwrap();
    send.send_error(Broken);
    let error = response.await.unwrap_err();
    assert!(error.is::<Broken>(), "not re-wrapped: {error}");
    assert!(rejection::find(&*error).is_none());

    let (mut keyed, mut handle) = mock::spawn_layer::<u32, u32, _>(keyed_layer());
    assert_ready_ok!(keyed.poll_ready());
    let response = keyed.call(1);
    let (_, send) = handle.next_request().await.unwrap();
    send.send_error(Broken);
    assert!(response.await.unwrap_err().is::<Broken>());
}

#[tokio::test(start_paused = true)]
async fn refusals_downcast_and_are_seawall_rejections() {
    let (mut service, _handle) = direct();
    assert_ready_ok!(service.poll_ready());
    drop(service.call(1));
    assert_ready_ok!(service.poll_ready());
    let error = service.call(2).await.unwrap_err();
    assert!(error.is::<RateLimited>());
    let found = rejection::find(&*error).expect("a seawall rejection");
    assert_eq!(found.pattern(), rejection::Pattern::Governor);
    assert_eq!(found.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(
        error.to_string(),
        "rate limited by \"global\" (1 per 1s), retry after 1s"
    );
}

#[tokio::test(start_paused = true)]
async fn futures_are_send_and_static() {
    fn send_static<T: Send + 'static>(_: &T) {}
    let (mut service, _handle) = direct();
    assert_ready_ok!(service.poll_ready());
    let future = service.call(1);
    send_static(&future);
    send_static(service.get_ref());
}

#[test]
fn services_and_layers_are_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    type Echo = tower::util::ServiceFn<fn(u32) -> std::future::Ready<Result<u32, BoxError>>>;
    send_sync::<RateLimitLayer>();
    send_sync::<RateLimit<Echo>>();
    send_sync::<KeyedRateLimitLayer<ByValue, u32>>();
    send_sync::<KeyedRateLimit<Echo, ByValue, u32>>();
    send_sync::<seawall_governor::RateLimiter<u32>>();
    send_sync::<seawall_governor::future::ResponseFuture<std::future::Ready<()>>>();
}

//! The tower Service contract, in reject mode.

use std::time::Duration;

use seawall_bulkhead::{BulkheadFull, BulkheadLayer};
use seawall_core::rejection::{self, Pattern};
use seawall_core::BoxError;
use seawall_test_support::service::{Broken, Probe};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok};
use tower_layer::Layer;
use tower_test::mock::{self, Spawn};

type Mock = mock::Mock<&'static str, &'static str>;
type Handle = mock::Handle<&'static str, &'static str>;

fn one_service(max_in_flight: usize) -> (Spawn<seawall_bulkhead::Bulkhead<Mock>>, Handle) {
    mock::spawn_layer(BulkheadLayer::new(max_in_flight))
}

fn full(error: BoxError) -> BulkheadFull {
    error
        .downcast_ref::<BulkheadFull>()
        .unwrap_or_else(|| panic!("expected BulkheadFull, got {error}"))
        .clone()
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "called before poll_ready")]
async fn call_before_ready_panics() {
    let (mut service, _handle) = one_service(1);
    drop(service.call("hello"));
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "called before poll_ready")]
async fn a_second_call_needs_a_second_poll_ready() {
    let (mut service, _handle) = one_service(2);
    assert_ready_ok!(service.poll_ready());
    let _first = service.call("one");
    drop(service.call("two"));
}

#[tokio::test(start_paused = true)]
async fn the_permit_is_held_from_poll_ready_to_the_end_of_the_call() {
    let (mut service, mut handle) = one_service(1);
    let bulkhead = service.get_ref().handle();

    assert_ready_ok!(service.poll_ready());
    assert_eq!(bulkhead.in_flight(), 1, "poll_ready reserves");
    let response = service.call("hello");
    assert_eq!(bulkhead.in_flight(), 1);

    let (request, send) = handle.next_request().await.expect("the inner was called");
    assert_eq!(request, "hello");
    send.send_response("world");
    assert_eq!(response.await.expect("admitted"), "world");
    assert_eq!(bulkhead.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn clones_start_unreserved_and_share_the_limit() {
    let (mut first, _handle) = one_service(1);
    let bulkhead = first.get_ref().handle();
    assert_ready_ok!(first.poll_ready());

    // The clone neither copies the reservation nor gets a permit of its own.
    let mut second = first.clone();
    assert_eq!(bulkhead.in_flight(), 1);
    assert_ready_ok!(second.poll_ready(), "reject mode is always ready");
    let refused = second.call("refused").await.unwrap_err();
    assert_eq!(full(refused).max_in_flight(), 1);

    // The first still owns its reservation.
    let _admitted = first.call("admitted");
    assert_eq!(bulkhead.in_flight(), 1);
}

#[tokio::test(start_paused = true)]
async fn services_from_separate_layer_calls_share_one_limit() {
    let layer = BulkheadLayer::new(2);
    let bulkhead = layer.handle();
    let (inner, mut handle) = mock::pair::<&'static str, &'static str>();
    let mut a = Spawn::new(layer.layer(inner.clone()));
    let mut b = Spawn::new(layer.layer(inner));

    assert_ready_ok!(a.poll_ready());
    let first = a.call("a1");
    assert_ready_ok!(b.poll_ready());
    let _second = b.call("b1");
    assert_eq!(bulkhead.in_flight(), 2);

    assert_ready_ok!(a.poll_ready());
    full(a.call("a2").await.unwrap_err());
    assert_ready_ok!(b.poll_ready());
    full(b.call("b2").await.unwrap_err());

    // Completing one call frees a permit for either service.
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response("done");
    first.await.unwrap();
    assert_ready_ok!(b.poll_ready());
    let _third = b.call("b3");
    assert_eq!(bulkhead.in_flight(), 2);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_future_releases_the_permit() {
    let (mut service, _handle) = one_service(1);
    let bulkhead = service.get_ref().handle();
    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    drop(response);
    assert_eq!(bulkhead.in_flight(), 0);

    assert_ready_ok!(service.poll_ready());
    assert_eq!(bulkhead.in_flight(), 1, "the freed permit is usable again");
}

#[tokio::test(start_paused = true)]
async fn dropping_a_reserved_service_releases_the_permit() {
    let (mut service, _handle) = one_service(1);
    let bulkhead = service.get_ref().handle();
    assert_ready_ok!(service.poll_ready());
    assert_eq!(bulkhead.in_flight(), 1);
    drop(service);
    assert_eq!(bulkhead.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn into_inner_releases_the_reservation() {
    let (mut service, _handle) = one_service(1);
    let bulkhead = service.get_ref().handle();
    assert_ready_ok!(service.poll_ready());
    let _inner = service.into_inner().into_inner();
    assert_eq!(bulkhead.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_refusal_never_touches_the_inner_service() {
    let layer = BulkheadLayer::new(1);
    let probe = Probe::default();
    let mut holder = Spawn::new(layer.layer(probe.clone()));
    let mut refused = Spawn::new(layer.layer(probe.clone()));

    assert_ready_ok!(holder.poll_ready());
    assert_eq!(probe.polls(), 1);

    assert_ready_ok!(refused.poll_ready());
    assert_eq!(probe.polls(), 1, "no permit, so the inner is not polled");
    refused.call(()).await.unwrap_err();
    assert_eq!(probe.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_pending_inner_service_keeps_the_reservation() {
    let (mut service, mut handle) = one_service(1);
    let bulkhead = service.get_ref().handle();
    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert_eq!(bulkhead.in_flight(), 1);

    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
    assert_eq!(bulkhead.in_flight(), 1, "still the one permit");
}

#[tokio::test(start_paused = true)]
async fn an_inner_readiness_error_passes_through_and_releases() {
    let (mut service, mut handle) = one_service(1);
    let bulkhead = service.get_ref().handle();
    handle.send_error(Broken);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Broken>(), "not re-wrapped: {error}");
    assert_eq!(bulkhead.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn inner_errors_pass_through_unchanged() {
    let (mut service, mut handle) = one_service(1);
    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    let (_, send) = handle.next_request().await.unwrap();
    send.send_error(Broken);
    let error = response.await.unwrap_err();
    assert!(error.is::<Broken>(), "not re-wrapped: {error}");
    assert!(rejection::find(&*error).is_none());
}

#[tokio::test(start_paused = true)]
async fn the_refusal_carries_the_capacity_and_retry_after() {
    let layer = BulkheadLayer::builder()
        .max_in_flight(1)
        .retry_after(Duration::from_secs(7))
        .build()
        .unwrap();
    let (mut service, _handle) = mock::spawn_layer::<&str, &str, _>(layer);
    assert_ready_ok!(service.poll_ready());
    let _held = service.call("held");

    assert_ready_ok!(service.poll_ready());
    let error = service.call("refused").await.unwrap_err();
    let found = rejection::find(&*error).expect("a seawall rejection");
    assert_eq!(found.pattern(), Pattern::Bulkhead);
    assert_eq!(found.retry_after(), Some(Duration::from_secs(7)));
    let full = full(error);
    assert_eq!(full.partition(), None);
    assert_eq!(full.waited(), None);
}

#[tokio::test(start_paused = true)]
async fn retry_after_defaults_to_one_second() {
    let (mut service, _handle) = one_service(1);
    assert_ready_ok!(service.poll_ready());
    let _held = service.call("held");
    assert_ready_ok!(service.poll_ready());
    let full = full(service.call("refused").await.unwrap_err());
    assert_eq!(
        rejection::Rejection::retry_after(&full),
        Some(Duration::from_secs(1))
    );
}

#[tokio::test(start_paused = true)]
async fn futures_are_send_and_static() {
    fn send_static<T: Send + 'static>(_: &T) {}
    let (mut service, _handle) = one_service(1);
    assert_ready_ok!(service.poll_ready());
    let future = service.call("hello");
    send_static(&future);
    send_static(service.get_ref());
}

#[test]
fn services_and_layers_are_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    type Echo = tower::util::ServiceFn<fn(u32) -> std::future::Ready<Result<u32, BoxError>>>;
    send_sync::<BulkheadLayer>();
    send_sync::<seawall_bulkhead::Bulkhead<Echo>>();
    send_sync::<seawall_bulkhead::BulkheadHandle>();
    send_sync::<seawall_bulkhead::future::ResponseFuture<std::future::Ready<()>>>();
}

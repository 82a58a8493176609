//! The tower Service contract for the shedding service: readiness, clones,
//! layers, drop, errors.

mod support;

use std::time::Duration;

use seawall_core::rejection::{self, Pattern};
use seawall_core::BoxError;
use seawall_shed::limit::Fixed;
use seawall_shed::{Overloaded, Shed, ShedLayer};
use seawall_test_support::service::{Broken, Probe};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok};
use tower_layer::Layer;
use tower_test::mock::{self, Spawn};

use support::overloaded;

type Mock = mock::Mock<&'static str, &'static str>;
type Handle = mock::Handle<&'static str, &'static str>;

fn layer(limit: usize) -> ShedLayer {
    ShedLayer::builder()
        .algorithm(Fixed::new(limit).unwrap())
        .build()
        .unwrap()
}

fn one_service(limit: usize) -> (Spawn<Shed<Mock>>, Handle) {
    mock::spawn_layer(layer(limit))
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
async fn the_slot_is_held_from_poll_ready_to_the_end_of_the_call() {
    let (mut service, mut handle) = one_service(1);
    let shed = service.get_ref().handle();

    assert_ready_ok!(service.poll_ready());
    assert_eq!(shed.in_flight(), 1, "poll_ready reserves");
    let response = service.call("hello");
    assert_eq!(shed.in_flight(), 1);

    let (request, send) = handle.next_request().await.expect("the inner was called");
    assert_eq!(request, "hello");
    send.send_response("world");
    assert_eq!(response.await.expect("admitted"), "world");
    assert_eq!(shed.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_shedding_service_is_always_ready_and_refuses_in_the_future() {
    let (mut service, _handle) = one_service(1);
    let shed = service.get_ref().handle();
    assert_ready_ok!(service.poll_ready());
    let _held = service.call("held");

    assert_ready_ok!(service.poll_ready(), "always ready, even at the limit");
    let refusal = overloaded(&service.call("refused").await.unwrap_err());
    assert_eq!(refusal.limit(), 1);
    assert_eq!(refusal.waited(), None);
    assert_eq!(shed.shed(), 1);
}

#[tokio::test(start_paused = true)]
async fn clones_start_unreserved_and_share_the_limit() {
    let (mut first, _handle) = one_service(1);
    let shed = first.get_ref().handle();
    assert_ready_ok!(first.poll_ready());

    // The clone neither copies the reservation nor gets a slot of its own.
    let mut second = first.clone();
    assert_eq!(shed.in_flight(), 1);
    assert_ready_ok!(second.poll_ready());
    overloaded(&second.call("refused").await.unwrap_err());

    // The first still owns its reservation.
    let _admitted = first.call("admitted");
    assert_eq!(shed.in_flight(), 1);
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "called before poll_ready")]
async fn a_clone_of_a_ready_service_is_not_ready() {
    let (mut first, _handle) = one_service(2);
    assert_ready_ok!(first.poll_ready());
    let mut second = first.clone();
    drop(second.call("not ready"));
}

#[tokio::test(start_paused = true)]
async fn services_from_separate_layer_calls_share_one_limit() {
    let layer = layer(2);
    let shed = layer.handle();
    let (inner, mut handle) = mock::pair::<&'static str, &'static str>();
    let mut a = Spawn::new(layer.layer(inner.clone()));
    let mut b = Spawn::new(layer.layer(inner));

    assert_ready_ok!(a.poll_ready());
    let first = a.call("a1");
    assert_ready_ok!(b.poll_ready());
    let _second = b.call("b1");
    assert_eq!(shed.in_flight(), 2);

    assert_ready_ok!(a.poll_ready());
    overloaded(&a.call("a2").await.unwrap_err());
    assert_ready_ok!(b.poll_ready());
    overloaded(&b.call("b2").await.unwrap_err());

    // Completing one call frees a slot for either service.
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response("done");
    first.await.unwrap();
    assert_ready_ok!(b.poll_ready());
    let _third = b.call("b3");
    assert_eq!(shed.in_flight(), 2);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_future_releases_the_slot() {
    let (mut service, _handle) = one_service(1);
    let shed = service.get_ref().handle();
    assert_ready_ok!(service.poll_ready());
    drop(service.call("hello"));
    assert_eq!(shed.in_flight(), 0);

    assert_ready_ok!(service.poll_ready());
    assert_eq!(shed.in_flight(), 1, "the freed slot is usable again");
}

#[tokio::test(start_paused = true)]
async fn dropping_a_reserved_service_releases_the_slot() {
    let (mut service, _handle) = one_service(1);
    let shed = service.get_ref().handle();
    assert_ready_ok!(service.poll_ready());
    assert_eq!(shed.in_flight(), 1);
    drop(service);
    assert_eq!(shed.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn into_inner_releases_the_reservation() {
    let (mut service, _handle) = one_service(1);
    let shed = service.get_ref().handle();
    assert_ready_ok!(service.poll_ready());
    let _inner = service.into_inner().into_inner();
    assert_eq!(shed.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_refusal_never_touches_the_inner_service() {
    let layer = layer(1);
    let probe = Probe::default();
    let mut holder = Spawn::new(layer.layer(probe.clone()));
    let mut refused = Spawn::new(layer.layer(probe.clone()));

    assert_ready_ok!(holder.poll_ready());
    assert_eq!(probe.polls(), 1);

    assert_ready_ok!(refused.poll_ready());
    assert_eq!(probe.polls(), 1, "no slot, so the inner is not polled");
    refused.call(()).await.unwrap_err();
    assert_eq!(probe.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_pending_inner_service_keeps_the_reservation() {
    let (mut service, mut handle) = one_service(1);
    let shed = service.get_ref().handle();
    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert_eq!(shed.in_flight(), 1);

    handle.allow(1);
    assert!(service.is_woken(), "the inner service's waker is passed on");
    assert_ready_ok!(service.poll_ready());
    assert_eq!(shed.in_flight(), 1, "still the one slot");
}

#[tokio::test(start_paused = true)]
async fn an_inner_readiness_error_passes_through_and_releases() {
    let (mut service, mut handle) = one_service(1);
    let shed = service.get_ref().handle();
    handle.send_error(Broken);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Broken>(), "not re-wrapped: {error}");
    assert_eq!(shed.in_flight(), 0);
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
async fn the_refusal_is_a_load_shed_rejection_with_a_retry_after() {
    let layer = ShedLayer::builder()
        .algorithm(Fixed::new(1).unwrap())
        .retry_after(Duration::from_millis(2500))
        .build()
        .unwrap();
    let (mut service, _handle) = mock::spawn_layer::<&str, &str, _>(layer);
    assert_ready_ok!(service.poll_ready());
    let _held = service.call("held");
    assert_ready_ok!(service.poll_ready());
    let error: BoxError = service.call("refused").await.unwrap_err();

    assert!(error.is::<Overloaded>());
    assert!(
        error.is::<seawall_core::rejection::Overloaded>(),
        "one type"
    );
    let found = rejection::find(&*error).expect("a seawall rejection");
    assert_eq!(found.pattern(), Pattern::LoadShed);
    assert_eq!(found.retry_after(), Some(Duration::from_millis(2500)));
    assert_eq!(error.to_string(), "overloaded (limit 1)");
}

#[tokio::test(start_paused = true)]
async fn the_default_retry_after_is_one_second() {
    let (mut service, _handle) = one_service(1);
    assert_ready_ok!(service.poll_ready());
    let _held = service.call("held");
    assert_ready_ok!(service.poll_ready());
    let error = service.call("refused").await.unwrap_err();
    let found = rejection::find(&*error).unwrap();
    assert_eq!(found.retry_after(), Some(seawall_shed::DEFAULT_RETRY_AFTER));
    assert_eq!(seawall_shed::DEFAULT_RETRY_AFTER, Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn debug_output_does_not_need_the_inner_to_be_debug() {
    let (service, _handle) = one_service(3);
    let text = format!("{:?}", service.get_ref());
    assert!(text.contains("Shed"), "{text}");
    assert!(text.contains("limit: 3"), "{text}");
}

//! The tower `Service` contract of `KeyedCircuitBreaker`.

use std::time::Duration;

use seawall_breaker::error::CircuitOpen;
use seawall_breaker::BreakerState;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower::Layer as _;
use tower_test::mock;

use crate::{call, fragile, layer, refused, Mock, UpstreamDown};

#[tokio::test(start_paused = true)]
#[should_panic(expected = "without a successful poll_ready")]
async fn call_without_poll_ready_panics() {
    let (mock, _handle) = mock::pair::<crate::Request, &'static str>();
    let mut service = layer(fragile("hosts"), 10).layer(mock);
    drop(tower::Service::call(&mut service, ("a", 0)));
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "without a successful poll_ready")]
async fn one_poll_ready_is_good_for_one_call() {
    let keyed = layer(fragile("hosts"), 10);
    let (mut service, _handle) = mock::spawn_with(|mock: Mock| keyed.layer(mock));
    assert_ready_ok!(service.poll_ready());
    drop(service.call(("a", 0)));
    drop(service.call(("a", 0)));
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "without a successful poll_ready")]
async fn a_clone_of_a_ready_service_is_not_ready() {
    let keyed = layer(fragile("hosts"), 10);
    let (mut service, _handle) = mock::spawn_with(|mock: Mock| keyed.layer(mock));
    assert_ready_ok!(service.poll_ready());
    let mut clone = service.clone();
    drop(clone.call(("a", 0)));
}

#[tokio::test(start_paused = true)]
async fn poll_ready_passes_the_inner_back_pressure_on() {
    let keyed = layer(fragile("hosts"), 10);
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| keyed.layer(mock));
    handle.allow(0);
    assert_pending!(service.poll_ready());
    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());

    // An inner readiness error comes out as it was, boxed.
    handle.send_error(UpstreamDown);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<UpstreamDown>());
}

#[tokio::test(start_paused = true)]
async fn dropping_the_future_releases_the_probe_slot() {
    let keyed = layer(fragile("hosts"), 10);
    let breakers = keyed.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| keyed.layer(mock));
    for _ in 0..2 {
        call(&mut service, &mut handle, "a", Err(UpstreamDown.into()))
            .await
            .unwrap_err();
    }
    tokio::time::advance(Duration::from_secs(10)).await;

    // The probe takes A's only slot; other callers of A are refused.
    assert_ready_ok!(service.poll_ready());
    let mut probe = task::spawn(service.call(("a", 1)));
    assert_pending!(probe.poll());
    let unanswered = handle.next_request().await.unwrap();
    let a = breakers.get("a").unwrap();
    assert_eq!(a.stats().probes_in_flight, 1);
    let error = refused(&mut service, &mut handle, "a").await;
    assert!(error.is::<CircuitOpen>());

    // Dropping the probe gives the slot back, counted as cancelled.
    drop(probe);
    drop(unanswered);
    assert_eq!(a.stats().probes_in_flight, 0);
    assert_eq!(a.state(), BreakerState::HalfOpen);

    // The next probe gets the slot and closes the breaker.
    call(&mut service, &mut handle, "a", Ok("back"))
        .await
        .unwrap();
    assert_eq!(a.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_refused_call_leaves_the_service_ready_for_the_next() {
    let keyed = layer(fragile("hosts"), 10);
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| keyed.layer(mock));
    for _ in 0..2 {
        call(&mut service, &mut handle, "a", Err(UpstreamDown.into()))
            .await
            .unwrap_err();
    }
    refused(&mut service, &mut handle, "a").await;
    // Readiness was used by the refused call; the next call asks again and
    // reaches the upstream.
    assert_eq!(
        call(&mut service, &mut handle, "b", Ok("fine"))
            .await
            .unwrap(),
        "fine"
    );
}

//! Drain ordering on paused time.

use std::time::Duration;

use http::{Request, StatusCode};
use seawall_core::health::HealthRegistry;
use seawall_handshake::{Drain, DrainOutcome, HealthService, NotReady, ReadinessGateLayer};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready, assert_ready_eq, assert_ready_ok};
use tower::ServiceExt;
use tower_test::mock;

fn drain() -> Drain {
    Drain::builder()
        .notice_delay(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn readiness(drain: &Drain) -> StatusCode {
    let service = HealthService::readiness(HealthRegistry::new(), drain);
    let Ok(response) = service.oneshot(Request::new(())).await;
    response.status()
}

#[tokio::test(start_paused = true)]
async fn readiness_fails_first_then_in_flight_work_finishes_then_drain_resolves() {
    let drain = drain();
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(ReadinessGateLayer::new(&drain));
    assert_ready_ok!(service.poll_ready());
    let mut in_flight = tokio_test::task::spawn(service.call("slow"));
    let (_, send) = handle.next_request().await.unwrap();

    // Readiness fails as soon as the drain is asked for.
    let mut drained = tokio_test::task::spawn(drain.drain());
    assert!(drain.is_draining());
    assert_eq!(readiness(&drain).await, StatusCode::SERVICE_UNAVAILABLE);

    // During the notice delay the load balancer may not have seen the
    // failing probe yet, so what it still sends is served.
    assert!(!drain.is_closed());
    assert_ready_ok!(service.poll_ready());
    let late = service.call("late");
    let (request, send_late) = handle.next_request().await.unwrap();
    assert_eq!(request, "late");
    send_late.send_response("served");
    assert_eq!(late.await.unwrap(), "served");

    // The drain waits out the notice delay; then new requests are refused,
    // and it waits for the request in flight.
    assert_pending!(drained.poll());
    advance(Duration::from_millis(9_999)).await;
    assert!(!drain.is_closed());
    assert_pending!(drained.poll());
    advance(Duration::from_millis(1)).await;
    assert!(drain.is_closed());
    assert_pending!(drained.poll());
    assert_ready_ok!(service.poll_ready());
    let refused = service.call("new").await.unwrap_err();
    assert!(refused.is::<NotReady>());
    advance(Duration::from_secs(5)).await;
    assert_pending!(drained.poll());

    send.send_response("done");
    assert_eq!(assert_ready_ok!(in_flight.poll()), "done");
    assert!(drained.is_woken(), "the last request out wakes the drain");
    assert_ready_eq!(drained.poll(), DrainOutcome::Finished);
}

#[tokio::test(start_paused = true)]
async fn with_nothing_in_flight_the_drain_ends_after_the_notice_delay() {
    let drain = drain();
    let mut drained = tokio_test::task::spawn(drain.drain());

    assert_pending!(drained.poll());
    advance(Duration::from_millis(9_999)).await;
    assert_pending!(drained.poll());
    advance(Duration::from_millis(1)).await;
    assert_ready_eq!(drained.poll(), DrainOutcome::Finished);
}

#[tokio::test(start_paused = true)]
async fn the_bound_expires_with_work_still_in_flight() {
    let drain = drain();
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(ReadinessGateLayer::new(&drain));
    assert_ready_ok!(service.poll_ready());
    let _stuck = service.call("stuck");
    let _request = handle.next_request().await.unwrap();

    let mut drained = tokio_test::task::spawn(drain.drain());
    assert_pending!(drained.poll());
    advance(Duration::from_secs(10)).await;
    assert_pending!(drained.poll());
    advance(Duration::from_millis(29_999)).await;
    assert_pending!(drained.poll());
    advance(Duration::from_millis(1)).await;

    let outcome = assert_ready!(drained.poll());
    assert_eq!(outcome, DrainOutcome::TimedOut { in_flight: 1 });
    assert!(!outcome.is_finished());
}

#[tokio::test(start_paused = true)]
async fn a_dropped_request_counts_as_finished() {
    let drain = drain();
    let (mut service, _handle) =
        mock::spawn_layer::<&str, &str, _>(ReadinessGateLayer::new(&drain));
    assert_ready_ok!(service.poll_ready());
    let abandoned = service.call("abandoned");

    let mut drained = tokio_test::task::spawn(drain.drain());
    advance(Duration::from_secs(10)).await;
    assert_pending!(drained.poll());

    drop(abandoned);
    assert!(drained.is_woken());
    assert_ready_eq!(drained.poll(), DrainOutcome::Finished);
}

#[tokio::test(start_paused = true)]
async fn a_second_drain_keeps_the_first_closing_time() {
    let drain = drain();
    let _first = drain.drain();
    advance(Duration::from_secs(6)).await;

    let mut second = tokio_test::task::spawn(drain.drain());
    advance(Duration::from_secs(4)).await;
    assert!(drain.is_closed(), "closes 10 s after the first call");
    assert_ready_eq!(second.poll(), DrainOutcome::Finished);
}

#[tokio::test(start_paused = true)]
async fn undrain_after_the_gate_closed_opens_it_and_a_new_drain_gives_new_notice() {
    let drain = drain();
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(ReadinessGateLayer::new(&drain));
    drop(drain.drain());
    advance(Duration::from_secs(10)).await;
    assert!(
        drain.is_closed(),
        "the gate closes though nobody awaits the drain"
    );
    assert_ready_ok!(service.poll_ready());
    assert!(service.call("closed").await.unwrap_err().is::<NotReady>());

    drain.undrain();
    assert!(!drain.is_closed());
    assert_eq!(readiness(&drain).await, StatusCode::OK);
    assert_ready_ok!(service.poll_ready());
    let response = service.call("open");
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response("ok");
    assert_eq!(response.await.unwrap(), "ok");

    // Draining again starts a fresh notice delay.
    let mut drained = tokio_test::task::spawn(drain.drain());
    assert!(!drain.is_closed());
    advance(Duration::from_millis(9_999)).await;
    assert!(!drain.is_closed());
    assert_pending!(drained.poll());
    advance(Duration::from_millis(1)).await;
    assert!(drain.is_closed());
    assert_ready_eq!(drained.poll(), DrainOutcome::Finished);
}

#[tokio::test(start_paused = true)]
async fn undrain_takes_work_again() {
    let drain = drain();
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(ReadinessGateLayer::new(&drain));

    let abandoned = drain.drain();
    drop(abandoned);
    assert!(drain.is_draining(), "dropping the future does not undrain");
    assert_eq!(readiness(&drain).await, StatusCode::SERVICE_UNAVAILABLE);

    drain.undrain();
    assert!(!drain.is_draining());
    assert_eq!(readiness(&drain).await, StatusCode::OK);
    assert_ready_ok!(service.poll_ready());
    let response = service.call("again");
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(request, "again");
    send.send_response("ok");
    assert_eq!(response.await.unwrap(), "ok");
}

#[test]
fn the_settings_are_validated() {
    let error = Drain::builder()
        .notice_delay(Duration::from_secs(3601))
        .build()
        .unwrap_err();
    assert_eq!(error.field(), "notice_delay");
    let error = Drain::builder()
        .timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(error.field(), "timeout");
    assert!(Drain::builder()
        .notice_delay(Duration::ZERO)
        .build()
        .is_ok());
}

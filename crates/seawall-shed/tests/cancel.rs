//! Dropping things at awkward moments gives every slot back and records
//! nothing.

mod support;

use std::time::Duration;

use seawall_shed::ShedLayer;
use tokio_test::{assert_pending, assert_ready_ok, task};
use tower_test::mock;

use support::Probe;

#[tokio::test(start_paused = true)]
async fn a_queued_request_dropped_while_its_inner_service_is_not_ready_frees_its_slot() {
    let probe = Probe::new(1);
    let layer = ShedLayer::builder()
        .algorithm(probe.clone())
        .queue(2, Duration::from_secs(1))
        .build()
        .unwrap();
    let shed = layer.handle();
    let (mut service, mut handle) = mock::spawn_layer::<&'static str, (), _>(layer);

    assert_ready_ok!(service.poll_ready());
    let mut held = task::spawn(service.call("held"));
    assert_pending!(held.poll());
    let (_, send) = handle.next_request().await.unwrap();
    assert_ready_ok!(service.poll_ready());
    let mut queued = task::spawn(service.call("queued"));
    assert_pending!(queued.poll());

    // It gets the slot, then waits for the inner service, and is dropped.
    handle.allow(0);
    send.send_response(());
    assert_ready_ok!(held.poll());
    assert_pending!(queued.poll());
    assert_eq!(shed.in_flight(), 1);
    drop(queued);
    assert_eq!(shed.in_flight(), 0);
    assert_eq!(probe.samples().len(), 1, "only `held` is a sample");
    assert_eq!(shed.shed(), 0);
}

#[tokio::test(start_paused = true)]
async fn futures_outlive_the_layer_and_their_service() {
    let probe = Probe::new(2);
    let layer = ShedLayer::builder()
        .algorithm(probe.clone())
        .queue(2, Duration::from_secs(1))
        .build()
        .unwrap();
    let shed = layer.handle();
    let (mut service, mut handle) = mock::spawn_layer::<&'static str, (), _>(layer);
    assert_ready_ok!(service.poll_ready());
    let mut a = task::spawn(service.call("a"));
    assert_ready_ok!(service.poll_ready());
    let mut b = task::spawn(service.call("b"));
    assert_ready_ok!(service.poll_ready());
    let mut c = task::spawn(service.call("c"));
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    assert_pending!(c.poll());
    assert_eq!(shed.queue_len(), 1);

    // The service and the layer are gone; the calls go on.
    drop(service);
    let (_, send_a) = handle.next_request().await.unwrap();
    let (_, _send_b) = handle.next_request().await.unwrap();
    send_a.send_response(());
    assert_ready_ok!(a.poll());
    assert!(c.is_woken(), "the freed slot went to the queued call");
    assert_pending!(c.poll());
    let (request, send_c) = handle.next_request().await.unwrap();
    assert_eq!(request, "c");
    send_c.send_response(());
    assert_ready_ok!(c.poll());

    drop(b);
    assert_eq!(shed.in_flight(), 0);
    assert_eq!(shed.queue_len(), 0);
    assert_eq!(probe.samples().len(), 2, "a and c; b was cancelled");
}

#[tokio::test(start_paused = true)]
async fn dropping_a_refused_future_unpolled_changes_nothing() {
    let layer = ShedLayer::builder()
        .algorithm(Probe::new(1))
        .build()
        .unwrap();
    let shed = layer.handle();
    let (mut service, _handle) = mock::spawn_layer::<&'static str, (), _>(layer);
    assert_ready_ok!(service.poll_ready());
    let _held = service.call("held");
    assert_ready_ok!(service.poll_ready());
    drop(service.call("refused"));
    assert_eq!(shed.in_flight(), 1);
    assert_eq!(shed.shed(), 1, "the refusal was decided at call");
}

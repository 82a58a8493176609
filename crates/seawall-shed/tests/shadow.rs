//! Shadow mode: the limit is learned and every decision computed and
//! reported, but nothing is refused or made to wait; and the switch at run
//! time.

mod support;

use std::time::Duration;

use seawall_shed::limit::Fixed;
use seawall_shed::{BackPressureLayer, ShedLayer};
use seawall_test_support::recorder::TestRecorder;
use tokio_test::{assert_pending, assert_ready_ok, task};
use tower_test::mock;

use support::{overloaded, Probe};

#[tokio::test(start_paused = true)]
async fn shadow_mode_admits_over_the_limit_and_counts_what_it_would_shed() {
    let recorder = TestRecorder::default();
    let probe = Probe::new(1);
    let layer = metrics::with_local_recorder(&recorder, || {
        ShedLayer::builder()
            .name("api")
            .algorithm(probe.clone())
            .shadow(true)
            .build()
            .unwrap()
    });
    let shed = layer.handle();
    assert!(!shed.is_enforced());
    let (mut service, mut handle) = mock::spawn_layer::<&'static str, &'static str, _>(layer);

    let mut calls = Vec::new();
    for name in ["a", "b", "c"] {
        assert_ready_ok!(service.poll_ready());
        calls.push(service.call(name));
    }
    assert_eq!(shed.in_flight(), 3, "nothing was refused");
    assert_eq!(shed.shed(), 0);
    assert_eq!(shed.shadow_shed(), 2, "two calls were over the limit");
    assert_eq!(
        recorder.value("seawall_shed_shadow_rejected_total{name=api}"),
        Some(2.0)
    );
    assert_eq!(
        recorder.value("seawall_shed_rejected_total{name=api,reason=limit}"),
        Some(0.0)
    );

    // Every call still teaches the algorithm, over the limit or not.
    for call in calls {
        let (_, send) = handle.next_request().await.unwrap();
        tokio::time::advance(Duration::from_millis(2)).await;
        send.send_response("ok");
        call.await.unwrap();
    }
    let in_flight: Vec<_> = probe.samples().iter().map(|s| s.in_flight).collect();
    assert_eq!(in_flight, [1, 2, 3]);
    assert_eq!(shed.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn switching_to_shadow_mode_lets_the_queue_through_and_back_enforces_again() {
    let layer = ShedLayer::builder()
        .algorithm(Fixed::new(1).unwrap())
        .queue(4, Duration::from_secs(1))
        .build()
        .unwrap();
    let shed = layer.handle();
    let (mut service, mut handle) = mock::spawn_layer::<&'static str, &'static str, _>(layer);

    assert_ready_ok!(service.poll_ready());
    let mut held = task::spawn(service.call("held"));
    assert_ready_ok!(service.poll_ready());
    let mut queued = task::spawn(service.call("queued"));
    assert_pending!(held.poll());
    assert_pending!(queued.poll());
    assert_eq!(shed.queue_len(), 1);

    shed.set_enforced(false);
    assert!(queued.is_woken(), "the waiter is let through");
    assert_eq!(shed.queue_len(), 0);
    assert_pending!(queued.poll());
    assert_eq!(shed.in_flight(), 2);
    assert_eq!(shed.shadow_shed(), 1);
    let _ = handle.next_request().await.unwrap();
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(request, "queued");
    send.send_response("ok");
    assert_ready_ok!(queued.poll());

    // Enforcing again, a request over the limit waits in the queue and,
    // with `held` still holding the only slot, expires at the bound.
    shed.set_enforced(true);
    assert!(shed.is_enforced());
    assert_ready_ok!(service.poll_ready());
    let mut waits = task::spawn(service.call("waits"));
    assert_pending!(waits.poll());
    assert_eq!(shed.queue_len(), 1);
    tokio::time::advance(Duration::from_secs(1)).await;
    let error = match waits.poll() {
        std::task::Poll::Ready(Err(error)) => error,
        other => panic!("expected a refusal, got {:?}", other.map(|r| r.is_ok())),
    };
    assert_eq!(overloaded(&error).waited(), Some(Duration::from_secs(1)));
}

#[tokio::test(start_paused = true)]
async fn back_pressure_in_shadow_mode_never_waits() {
    let layer = BackPressureLayer::builder()
        .algorithm(Fixed::new(1).unwrap())
        .shadow(true)
        .build_back_pressure()
        .unwrap();
    let shed = layer.handle();
    let (mut first, _handle) = mock::spawn_layer::<&'static str, &'static str, _>(layer);
    let mut second = first.clone();
    assert_ready_ok!(first.poll_ready());
    assert_ready_ok!(second.poll_ready(), "ready over the limit");
    let _a = first.call("a");
    let _b = second.call("b");
    assert_eq!(shed.in_flight(), 2);
    assert_eq!(shed.shadow_shed(), 1);
}

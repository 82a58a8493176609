//! The back-pressure service: `poll_ready` is `Pending` until a slot
//! frees, woken by the release itself; waiters are served in order; a
//! reservation or a wait is given back on drop; clones start unreserved.

mod support;

use std::time::Duration;

use seawall_shed::limit::Fixed;
use seawall_shed::{BackPressure, BackPressureLayer, ShedHandle};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok};
use tower_layer::Layer;
use tower_test::mock::{self, Spawn};

use support::Probe;

type Mock = mock::Mock<&'static str, &'static str>;
type Handle = mock::Handle<&'static str, &'static str>;
type Svc = Spawn<BackPressure<Mock>>;

/// `n` services built by separate `layer` calls, sharing a limit.
fn services(limit: usize, n: usize) -> (Vec<Svc>, Handle, ShedHandle) {
    let layer = BackPressureLayer::builder()
        .algorithm(Fixed::new(limit).unwrap())
        .build_back_pressure()
        .unwrap();
    let shed = layer.handle();
    let (inner, handle) = mock::pair();
    let services = (0..n)
        .map(|_| Spawn::new(layer.layer(inner.clone())))
        .collect();
    (services, handle, shed)
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "called before poll_ready")]
async fn call_before_ready_panics() {
    let (mut s, _handle, _shed) = services(1, 1);
    drop(s[0].call("hello"));
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "called before poll_ready")]
async fn a_waiting_service_cannot_be_called() {
    let (mut s, _handle, _shed) = services(1, 2);
    assert_ready_ok!(s[0].poll_ready());
    assert_pending!(s[1].poll_ready());
    drop(s[1].call("still waiting"));
}

#[tokio::test(start_paused = true)]
async fn poll_ready_is_pending_until_a_slot_frees() {
    let (mut s, _handle, shed) = services(1, 2);
    assert_ready_ok!(s[0].poll_ready());
    let held = s[0].call("held");

    assert_pending!(s[1].poll_ready());
    assert_eq!(shed.queue_len(), 1);
    assert!(!s[1].is_woken());

    // No timer drives the wait: time alone changes nothing.
    tokio::time::advance(Duration::from_secs(60)).await;
    assert!(!s[1].is_woken());
    assert_pending!(s[1].poll_ready());

    drop(held);
    assert!(s[1].is_woken(), "the release wakes the waiter");
    assert_eq!(
        shed.in_flight(),
        1,
        "the slot passed straight to the waiter"
    );
    assert_ready_ok!(s[1].poll_ready());
    assert_eq!(shed.queue_len(), 0);
    assert_eq!(shed.shed(), 0, "back pressure never refuses");
}

#[tokio::test(start_paused = true)]
async fn a_completed_call_wakes_the_waiter_too() {
    let (mut s, mut handle, _shed) = services(1, 2);
    assert_ready_ok!(s[0].poll_ready());
    let response = s[0].call("held");
    assert_pending!(s[1].poll_ready());

    let (_, send) = handle.next_request().await.unwrap();
    send.send_response("done");
    response.await.unwrap();
    assert!(s[1].is_woken());
    assert_ready_ok!(s[1].poll_ready());
}

#[tokio::test(start_paused = true)]
async fn waiters_are_served_in_the_order_they_began_to_wait() {
    let (mut s, _handle, _shed) = services(1, 4);
    assert_ready_ok!(s[0].poll_ready());
    let held = s[0].call("held");
    for waiter in &mut s[1..] {
        assert_pending!(waiter.poll_ready());
    }

    drop(held);
    assert!(s[1].is_woken());
    assert!(
        !s[2].is_woken() && !s[3].is_woken(),
        "one slot, one wake-up"
    );
    assert_pending!(s[2].poll_ready(), "the slot went to the first waiter");
    let first = {
        assert_ready_ok!(s[1].poll_ready());
        s[1].call("first")
    };
    drop(first);
    assert!(s[2].is_woken());
    assert_ready_ok!(s[2].poll_ready());
}

#[tokio::test(start_paused = true)]
async fn dropping_a_waiting_service_leaves_the_line() {
    let (mut s, _handle, shed) = services(1, 2);
    assert_ready_ok!(s[0].poll_ready());
    let held = s[0].call("held");
    assert_pending!(s[1].poll_ready());
    assert_eq!(shed.queue_len(), 1);

    drop(s.pop());
    assert_eq!(shed.queue_len(), 0);
    drop(held);
    assert_eq!(shed.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_slot_granted_to_a_dropped_service_goes_to_the_next() {
    let (mut s, _handle, shed) = services(1, 3);
    assert_ready_ok!(s[0].poll_ready());
    let held = s[0].call("held");
    assert_pending!(s[1].poll_ready());
    assert_pending!(s[2].poll_ready());

    drop(held);
    assert!(s[1].is_woken());
    s.remove(1);
    assert!(s[1].is_woken(), "the slot moved on");
    assert_ready_ok!(s[1].poll_ready());
    assert_eq!(shed.in_flight(), 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_a_reserved_service_releases_its_slot() {
    let (mut s, _handle, shed) = services(1, 1);
    assert_ready_ok!(s[0].poll_ready());
    assert_eq!(shed.in_flight(), 1);
    drop(s.pop());
    assert_eq!(shed.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn clones_start_unreserved_and_share_the_limit() {
    let (mut s, _handle, shed) = services(1, 1);
    assert_ready_ok!(s[0].poll_ready());
    let mut clone = s[0].clone();
    assert_eq!(shed.in_flight(), 1, "cloning does not duplicate the slot");
    assert_pending!(clone.poll_ready(), "the clone must wait for its own");

    let _call = s[0].call("first");
    drop(clone);
    assert_eq!(shed.queue_len(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_inner_readiness_error_passes_through_and_releases() {
    let (mut s, mut handle, shed) = services(1, 1);
    handle.send_error("broken");
    let error = assert_ready_err!(s[0].poll_ready());
    assert_eq!(error.to_string(), "broken");
    assert_eq!(shed.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_rising_limit_wakes_waiters() {
    let probe = Probe::new(1);
    let layer = BackPressureLayer::builder()
        .algorithm(probe.clone())
        .build_back_pressure()
        .unwrap();
    let (mut first, mut handle) = mock::spawn_layer::<&'static str, &'static str, _>(layer);
    let mut second = first.clone();
    assert_ready_ok!(first.poll_ready());
    let response = first.call("first");
    assert_pending!(second.poll_ready());

    probe.set_limit(2);
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response("done");
    response.await.unwrap();
    assert!(second.is_woken());
    assert_ready_ok!(second.poll_ready());
    assert_ready_ok!(first.poll_ready(), "the limit is now 2");
}

#[tokio::test(start_paused = true)]
async fn completed_calls_are_samples() {
    let probe = Probe::new(1);
    let layer = BackPressureLayer::builder()
        .algorithm(probe.clone())
        .build_back_pressure()
        .unwrap();
    let (mut service, mut handle) = mock::spawn_layer::<&'static str, &'static str, _>(layer);
    assert_ready_ok!(service.poll_ready());
    let response = service.call("one");
    let (_, send) = handle.next_request().await.unwrap();
    tokio::time::advance(Duration::from_millis(7)).await;
    send.send_response("done");
    response.await.unwrap();

    assert_ready_ok!(service.poll_ready());
    drop(service.call("cancelled"));

    let samples = probe.samples();
    assert_eq!(samples.len(), 1, "the cancelled call is not a sample");
    assert_eq!(samples[0].latency, Duration::from_millis(7));
    assert_eq!(samples[0].in_flight, 1);
}

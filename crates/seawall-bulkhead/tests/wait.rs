//! Waiting mode: back pressure with a bounded wait.

use std::time::Duration;

use seawall_bulkhead::{Bulkhead, BulkheadFull, BulkheadHandle, BulkheadLayer};
use tokio_test::{assert_pending, assert_ready_ok};
use tower_test::mock::{self, Spawn};

type Service = Spawn<Bulkhead<mock::Mock<&'static str, &'static str>>>;
/// Kept alive by each test: the mocks report themselves closed without it.
type Mocks = mock::Handle<&'static str, &'static str>;

const WAIT: Duration = Duration::from_secs(5);

/// A waiting bulkhead of `max_in_flight` permits and `n` services built by
/// separate `layer` calls.
fn services(max_in_flight: usize, n: usize) -> (Vec<Service>, BulkheadHandle, Mocks) {
    let layer = BulkheadLayer::builder()
        .max_in_flight(max_in_flight)
        .wait(WAIT)
        .build()
        .unwrap();
    let (inner, mocks) = mock::pair();
    let services = (0..n)
        .map(|_| Spawn::new(tower_layer::Layer::layer(&layer, inner.clone())))
        .collect();
    (services, layer.handle(), mocks)
}

fn full(error: seawall_core::BoxError) -> BulkheadFull {
    error
        .downcast_ref::<BulkheadFull>()
        .expect("a bulkhead refusal")
        .clone()
}

#[tokio::test(start_paused = true)]
async fn a_waiting_service_is_woken_when_a_permit_frees() {
    let (mut s, bulkhead, _mocks) = services(1, 2);
    assert_ready_ok!(s[0].poll_ready());
    let held = s[0].call("held");

    assert_pending!(s[1].poll_ready());
    assert_eq!(bulkhead.waiting(), 1);
    assert!(!s[1].is_woken());

    drop(held);
    assert!(s[1].is_woken(), "the release wakes the waiter");
    assert_ready_ok!(s[1].poll_ready());
    assert_eq!(bulkhead.waiting(), 0);
    assert_eq!(bulkhead.in_flight(), 1, "the waiter holds the freed permit");
}

#[tokio::test(start_paused = true)]
async fn a_completed_call_wakes_the_waiter_too() {
    let layer = BulkheadLayer::builder()
        .max_in_flight(1)
        .wait(WAIT)
        .build()
        .unwrap();
    let (mut first, mut handle) = mock::spawn_layer::<&str, &str, _>(layer);
    let mut second = first.clone();
    assert_ready_ok!(first.poll_ready());
    let response = first.call("held");
    assert_pending!(second.poll_ready());

    let (_, send) = handle.next_request().await.unwrap();
    send.send_response("done");
    response.await.unwrap();
    assert!(second.is_woken());
    assert_ready_ok!(second.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn the_wait_times_out_after_the_bound() {
    let (mut s, bulkhead, _mocks) = services(1, 2);
    assert_ready_ok!(s[0].poll_ready());
    let held = s[0].call("held");

    assert_pending!(s[1].poll_ready());
    tokio::time::advance(WAIT - Duration::from_millis(1)).await;
    assert!(!s[1].is_woken());
    assert_pending!(s[1].poll_ready());

    tokio::time::advance(Duration::from_millis(1)).await;
    assert!(s[1].is_woken(), "the timer wakes the waiter");
    assert_ready_ok!(s[1].poll_ready(), "the timeout is reported by call");
    assert_eq!(bulkhead.waiting(), 0);
    let refusal = full(s[1].call("late").await.unwrap_err());
    assert_eq!(refusal.waited(), Some(WAIT));

    // The service is still usable once a permit frees.
    drop(held);
    assert_ready_ok!(s[1].poll_ready());
    assert_eq!(bulkhead.in_flight(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_woken_waiter_that_loses_the_race_keeps_its_deadline() {
    let (mut s, _bulkhead, _mocks) = services(1, 3);
    assert_ready_ok!(s[0].poll_ready());
    let held = s[0].call("held");
    assert_pending!(s[1].poll_ready());
    assert_pending!(s[2].poll_ready());

    tokio::time::advance(Duration::from_secs(2)).await;
    drop(held);
    assert!(s[1].is_woken() && s[2].is_woken(), "every waiter is woken");
    assert_ready_ok!(s[1].poll_ready());
    assert_pending!(s[2].poll_ready(), "the permit is gone again");

    tokio::time::advance(Duration::from_secs(3)).await;
    assert_ready_ok!(s[2].poll_ready());
    let refusal = full(s[2].call("late").await.unwrap_err());
    assert_eq!(refusal.waited(), Some(WAIT), "the deadline did not move");
}

#[tokio::test(start_paused = true)]
async fn dropping_a_waiting_service_stops_its_wait() {
    let (mut s, bulkhead, _mocks) = services(1, 2);
    assert_ready_ok!(s[0].poll_ready());
    let held = s[0].call("held");
    assert_pending!(s[1].poll_ready());
    assert_eq!(bulkhead.waiting(), 1);

    drop(s.pop());
    assert_eq!(bulkhead.waiting(), 0);
    drop(held);
    assert_eq!(bulkhead.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_free_permit_is_taken_without_waiting() {
    let (mut s, bulkhead, _mocks) = services(2, 2);
    assert_ready_ok!(s[0].poll_ready());
    assert_ready_ok!(s[1].poll_ready());
    assert_eq!(bulkhead.in_flight(), 2);
    assert_eq!(bulkhead.waiting(), 0);
}

#[tokio::test(start_paused = true)]
async fn later_waits_start_a_fresh_bound() {
    let (mut s, _bulkhead, _mocks) = services(1, 2);
    assert_ready_ok!(s[0].poll_ready());
    let _held = s[0].call("held");

    for _ in 0..2 {
        assert_pending!(s[1].poll_ready());
        tokio::time::advance(WAIT).await;
        assert_ready_ok!(s[1].poll_ready());
        let refusal = full(s[1].call("late").await.unwrap_err());
        assert_eq!(refusal.waited(), Some(WAIT));
    }
}

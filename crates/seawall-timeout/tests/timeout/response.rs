//! The response timeout.

use seawall_timeout::error::{Elapsed, Phase};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower_test::{assert_request_eq, mock};

use crate::support::{ms, response_layer};

#[tokio::test(start_paused = true)]
async fn fires_at_the_limit_and_not_a_tick_earlier() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("slow"));
    let _unanswered = assert_request_eq!(handle, "slow");
    assert_pending!(response.poll());

    advance(ms(99)).await;
    assert!(!response.is_woken());
    assert_pending!(response.poll());

    advance(ms(1)).await;
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    let elapsed = error.downcast_ref::<Elapsed>().expect("an Elapsed");
    assert_eq!(elapsed.limit(), ms(100));
    assert_eq!(elapsed.phase(), Phase::Response);
    assert!(!elapsed.is_deadline());
}

#[tokio::test(start_paused = true)]
async fn a_response_in_time_is_returned() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("quick"));
    let send = assert_request_eq!(handle, "quick");
    assert_pending!(response.poll());

    advance(ms(99)).await;
    send.send_response("answer");
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "answer");
}

#[tokio::test(start_paused = true)]
async fn a_response_due_with_the_limit_wins() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("just in time"));
    let send = assert_request_eq!(handle, "just in time");
    assert_pending!(response.poll());

    advance(ms(100)).await;
    send.send_response("answer");
    assert_eq!(assert_ready_ok!(response.poll()), "answer");
}

#[tokio::test(start_paused = true)]
async fn the_limit_counts_from_the_call_not_the_first_poll() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("polled late"));
    let _unanswered = assert_request_eq!(handle, "polled late");

    // The first poll comes 60 ms after the call: 40 ms remain.
    advance(ms(60)).await;
    assert_pending!(response.poll());
    advance(ms(39)).await;
    assert_pending!(response.poll());
    advance(ms(1)).await;
    assert_ready_err!(response.poll());
}

#[tokio::test(start_paused = true)]
async fn a_first_poll_after_the_limit_fails_at_once() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("polled too late"));
    let _unanswered = assert_request_eq!(handle, "polled too late");

    advance(ms(150)).await;
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Elapsed>().unwrap().limit(), ms(100));
}

#[tokio::test(start_paused = true)]
async fn an_inner_future_ready_at_once_never_starts_a_timer() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("instant"));
    assert_request_eq!(handle, "instant").send_response("answer");

    assert_eq!(assert_ready_ok!(response.poll()), "answer");
    assert!(format!("{response:?}").contains("timer_started: false"));

    // One that is pending once does start one.
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("later"));
    let send = assert_request_eq!(handle, "later");
    assert_pending!(response.poll());
    assert!(format!("{response:?}").contains("timer_started: true"));
    send.send_response("answer");
    assert_eq!(assert_ready_ok!(response.poll()), "answer");
}

#[tokio::test(start_paused = true)]
async fn each_call_gets_its_own_limit() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let mut first = task::spawn(service.call("first"));
    let _first = assert_request_eq!(handle, "first");
    assert_pending!(first.poll());

    advance(ms(50)).await;
    assert_ready_ok!(service.poll_ready());
    let mut second = task::spawn(service.call("second"));
    let _second = assert_request_eq!(handle, "second");
    assert_pending!(second.poll());

    advance(ms(50)).await;
    assert_ready_err!(first.poll());
    assert_pending!(second.poll());
    advance(ms(50)).await;
    assert_ready_err!(second.poll());
}

//! The trace events of a timeout.
//!
//! One test in its own binary: tracing caches whether a callsite is enabled,
//! and a test thread with no subscriber that reaches the callsite while
//! another thread installs one can leave it cached as disabled. Alone here,
//! the events are seen every time.

use std::time::Duration;

use seawall_core::Deadline;
use seawall_test_support::capture::{Capture, Captured};
use seawall_timeout::TimeoutLayer;
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower_test::{assert_request_eq, mock};
use tracing::Level;

#[test]
fn each_timeout_logs_a_trace_event_with_its_fields() {
    let capture = Capture::default();
    let _guard = capture.install();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();

    runtime.block_on(ready_then_response_timeout());
    let events = timeout_events(&capture);
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e.level == Level::TRACE));

    let ready = &events[0].fields;
    assert_eq!(ready["message"], "timed out");
    assert_eq!(ready["phase"], "ready");
    assert_eq!(ready["limit"], "50ms");
    assert_eq!(ready["by_deadline"], "false");
    assert_eq!(ready["name"], "orders");

    let response = &events[1].fields;
    assert_eq!(response["phase"], "response");
    assert_eq!(response["limit"], "100ms");
    assert_eq!(response["by_deadline"], "false");

    runtime.block_on(deadline_timeout());
    let events = timeout_events(&capture);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].fields["by_deadline"], "true");
    assert_eq!(events[0].fields["limit"], "25ms");
    assert_eq!(events[0].fields["name"], "timeout");

    // An answered call logs nothing.
    runtime.block_on(answered_call());
    assert!(timeout_events(&capture).is_empty());
}

async fn ready_then_response_timeout() {
    let layer = TimeoutLayer::builder()
        .timeout(ms(100))
        .ready_timeout(ms(50))
        .name("orders")
        .build()
        .unwrap();
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(layer);

    handle.allow(0);
    assert_pending!(service.poll_ready());
    advance(ms(50)).await;
    assert_ready_err!(service.poll_ready());

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("slow"));
    let _unanswered = assert_request_eq!(handle, "slow");
    assert_pending!(response.poll());
    advance(ms(100)).await;
    assert_ready_err!(response.poll());
}

async fn deadline_timeout() {
    let layer = TimeoutLayer::builder()
        .timeout(ms(100))
        .deadline_from(|request: &Option<Deadline>| *request)
        .build()
        .unwrap();
    let (mut service, mut handle) = mock::spawn_layer::<Option<Deadline>, (), _>(layer);

    let deadline = Some(Deadline::after(ms(25)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(deadline));
    let _unanswered = assert_request_eq!(handle, deadline);
    assert_pending!(response.poll());
    advance(ms(25)).await;
    assert_ready_err!(response.poll());
}

async fn answered_call() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(TimeoutLayer::new(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let response = service.call("quick");
    assert_request_eq!(handle, "quick").send_response("ok");
    response.await.unwrap();
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// The events of `seawall::timeout` since the last call, taken out of
/// `capture`.
fn timeout_events(capture: &Capture) -> Vec<Captured> {
    capture
        .take()
        .into_iter()
        .filter(|event| event.target == "seawall::timeout")
        .collect()
}

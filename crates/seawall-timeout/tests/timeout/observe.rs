//! Metrics of a timeout. Log events are tested in `tests/events.rs`.

use seawall_test_support::recorder::TestRecorder;
use seawall_timeout::TimeoutLayer;
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower::Layer;
use tower_test::{assert_request_eq, mock};

use crate::support::ms;

/// The elapsed counter of `named_layer` in `phase`.
fn elapsed_total(phase: &str) -> String {
    format!("seawall_timeout_elapsed_total{{name=orders,phase={phase}}}")
}

fn named_layer() -> TimeoutLayer {
    TimeoutLayer::builder()
        .timeout(ms(100))
        .ready_timeout(ms(50))
        .name("orders")
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn counters_are_registered_when_the_layer_is_built() {
    let recorder = TestRecorder::default();
    let _layer = metrics::with_local_recorder(&recorder, named_layer);

    for phase in ["ready", "response"] {
        assert_eq!(recorder.value(&elapsed_total(phase)), Some(0.0), "{phase}");
    }
}

#[tokio::test(start_paused = true)]
async fn each_timeout_is_counted_once_under_its_phase() {
    let recorder = TestRecorder::default();
    let layer = metrics::with_local_recorder(&recorder, named_layer);
    let ready = elapsed_total("ready");
    let response = elapsed_total("response");

    // Two services from one layer count into the same series.
    let (mut first, mut handle) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let mut second = mock::Spawn::new(layer.layer(first.get_ref().get_ref().clone()));

    handle.allow(0);
    assert_pending!(first.poll_ready());
    advance(ms(50)).await;
    assert_ready_err!(first.poll_ready());
    assert_eq!(recorder.value(&ready), Some(1.0));
    assert_eq!(recorder.value(&response), Some(0.0));

    handle.allow(1);
    assert_ready_ok!(second.poll_ready());
    let mut call = task::spawn(second.call("slow"));
    let _unanswered = assert_request_eq!(handle, "slow");
    assert_pending!(call.poll());
    advance(ms(100)).await;
    assert_ready_err!(call.poll());
    assert_eq!(recorder.value(&response), Some(1.0));
    assert_eq!(recorder.value(&ready), Some(1.0));
}

#[tokio::test(start_paused = true)]
async fn a_dropped_or_answered_future_is_not_counted() {
    let recorder = TestRecorder::default();
    let layer = metrics::with_local_recorder(&recorder, named_layer);
    let response = elapsed_total("response");
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(layer);

    assert_ready_ok!(service.poll_ready());
    let mut dropped = task::spawn(service.call("dropped"));
    let _unanswered = assert_request_eq!(handle, "dropped");
    assert_pending!(dropped.poll());
    advance(ms(99)).await;
    drop(dropped);

    assert_ready_ok!(service.poll_ready());
    let answered = service.call("answered");
    assert_request_eq!(handle, "answered").send_response("ok");
    answered.await.unwrap();

    advance(ms(500)).await;
    assert_eq!(recorder.value(&response), Some(0.0));
}

//! Health reports and metrics; tracing events are in `trace.rs`, a test
//! binary of their own.

mod support;

use std::time::Duration;

use seawall_core::health::{HealthRegistry, Status, Value};
use seawall_shed::limit::Fixed;
use seawall_shed::ShedLayer;
use seawall_test_support::recorder::TestRecorder;
use tokio_test::{assert_pending, assert_ready_ok, task};
use tower_test::mock;

use support::Probe;

#[tokio::test(start_paused = true)]
async fn health_reports_the_limit_and_warns_at_it() {
    let registry = HealthRegistry::new();
    let layer = ShedLayer::builder()
        .name("api")
        .algorithm(Fixed::new(1).unwrap())
        .queue(2, Duration::from_secs(1))
        .health(&registry)
        .build()
        .unwrap();
    let (mut service, mut handle) = mock::spawn_layer::<&'static str, (), _>(layer);

    let snapshot = registry.snapshot();
    assert_eq!(snapshot.len(), 1);
    assert_eq!(snapshot[0].component().name(), "api");
    assert_eq!(snapshot[0].component().kind(), "load_shed");
    assert!(!snapshot[0].component().is_critical());
    let report = snapshot[0].report();
    assert_eq!(report.status(), Status::Pass);
    assert_eq!(report.get("limit"), Some(&Value::Unsigned(1)));
    assert_eq!(report.get("in_flight"), Some(&Value::Unsigned(0)));
    assert_eq!(report.get("queue_len"), Some(&Value::Unsigned(0)));
    assert_eq!(report.get("shed"), Some(&Value::Unsigned(0)));
    assert_eq!(report.get("algorithm"), Some(&Value::Text("fixed".into())));
    assert_eq!(report.get("enforced"), Some(&Value::Bool(true)));

    // At the limit: warn.
    assert_ready_ok!(service.poll_ready());
    let mut held = task::spawn(service.call("held"));
    assert_pending!(held.poll());
    let report = registry.snapshot()[0].report().clone();
    assert_eq!(report.status(), Status::Warn);
    assert_eq!(report.get("in_flight"), Some(&Value::Unsigned(1)));

    // Two queued, one refused: the queue and the count show it.
    let mut queued: Vec<_> = (0..3)
        .map(|_| {
            assert_ready_ok!(service.poll_ready());
            task::spawn(service.call("more"))
        })
        .collect();
    for future in &mut queued {
        let _ = future.poll();
    }
    let report = registry.snapshot()[0].report().clone();
    assert_eq!(report.get("queue_len"), Some(&Value::Unsigned(2)));
    assert_eq!(report.get("shed"), Some(&Value::Unsigned(1)));

    // Everything done: pass again, and the component lasts as long as the
    // shedder does.
    drop(queued);
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response(());
    assert_ready_ok!(held.poll());
    assert_eq!(registry.snapshot()[0].report().status(), Status::Pass);
    drop((service, held));
    assert!(registry.snapshot().is_empty());
}

#[tokio::test(start_paused = true)]
async fn failing_readiness_while_shedding_fails_from_a_refusal_until_the_hold_passes() {
    let registry = HealthRegistry::new();
    let layer = ShedLayer::builder()
        .name("api")
        .algorithm(Fixed::new(1).unwrap())
        .health(&registry)
        .fail_readiness_while_shedding(Duration::from_secs(2))
        .build()
        .unwrap();
    let (mut service, mut handle) = mock::spawn_layer::<&'static str, (), _>(layer);
    let status = || registry.snapshot()[0].report().status();
    assert!(registry.snapshot()[0].component().is_critical());
    assert_eq!(status(), Status::Pass);

    // At the limit but nothing refused yet: only a warning.
    assert_ready_ok!(service.poll_ready());
    let mut held = task::spawn(service.call("held"));
    assert_pending!(held.poll());
    assert_eq!(status(), Status::Warn);

    // A refusal fails the component, for the hold after the last refusal.
    tokio::time::advance(Duration::from_millis(500)).await;
    assert_ready_ok!(service.poll_ready());
    assert!(service.call("shed").await.is_err());
    assert_eq!(status(), Status::Fail);
    tokio::time::advance(Duration::from_millis(1_999)).await;
    assert_eq!(status(), Status::Fail, "within the hold");
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(
        status(),
        Status::Warn,
        "the hold is over; still at the limit"
    );

    // Caught up: pass.
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response(());
    assert_ready_ok!(held.poll());
    assert_eq!(status(), Status::Pass);
}

#[tokio::test(start_paused = true)]
async fn metrics_follow_the_limit_the_calls_the_queue_and_each_refusal() {
    let recorder = TestRecorder::default();
    let probe = Probe::new(1);
    let layer = metrics::with_local_recorder(&recorder, || {
        ShedLayer::builder()
            .name("search")
            .algorithm(probe.clone())
            .queue(1, Duration::from_millis(50))
            .build()
            .unwrap()
    });
    let (mut service, mut handle) = mock::spawn_layer::<&'static str, (), _>(layer);
    let limit = "seawall_shed_limit{name=search}";
    let in_flight = "seawall_shed_in_flight{name=search}";
    let queue_len = "seawall_shed_queue_len{name=search}";
    let rejected =
        |reason: &str| format!("seawall_shed_rejected_total{{name=search,reason={reason}}}");
    assert_eq!(recorder.value(limit), Some(1.0));
    assert_eq!(recorder.value(in_flight), Some(0.0));
    assert_eq!(recorder.value(queue_len), Some(0.0));
    for reason in ["limit", "queue_full", "expired"] {
        assert_eq!(recorder.value(&rejected(reason)), Some(0.0), "{reason}");
    }

    assert_ready_ok!(service.poll_ready());
    let mut held = task::spawn(service.call("held"));
    assert_pending!(held.poll());
    assert_eq!(recorder.value(in_flight), Some(1.0));

    assert_ready_ok!(service.poll_ready());
    let mut waits = task::spawn(service.call("waits"));
    assert_pending!(waits.poll());
    assert_eq!(recorder.value(queue_len), Some(1.0));
    assert_ready_ok!(service.poll_ready());
    let mut full = task::spawn(service.call("full"));
    assert!(full.poll().is_ready());
    assert_eq!(recorder.value(&rejected("queue_full")), Some(1.0));

    tokio::time::advance(Duration::from_millis(50)).await;
    assert!(waits.poll().is_ready());
    assert_eq!(recorder.value(&rejected("expired")), Some(1.0));
    assert_eq!(recorder.value(queue_len), Some(0.0));

    probe.set_limit(7);
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response(());
    assert_ready_ok!(held.poll());
    assert_eq!(recorder.value(limit), Some(7.0));
    assert_eq!(recorder.value(in_flight), Some(0.0));
}

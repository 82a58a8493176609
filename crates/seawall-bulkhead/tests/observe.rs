//! Health reports and metrics.

use seawall_bulkhead::BulkheadLayer;
use seawall_core::health::{HealthRegistry, Status, Value};
use seawall_test_support::recorder::TestRecorder;
use tokio_test::assert_ready_ok;
use tower_test::mock;

type Request = &'static str;

fn tenant(request: &Request) -> Option<&str> {
    Some(request)
}

#[tokio::test(start_paused = true)]
async fn health_reports_occupancy_and_warns_when_full() {
    let registry = HealthRegistry::new();
    let layer = BulkheadLayer::builder()
        .name("upstream")
        .max_in_flight(2)
        .health(&registry)
        .build()
        .unwrap();
    let (mut service, _mocks) = mock::spawn_layer::<Request, (), _>(layer);

    let snapshot = registry.snapshot();
    assert_eq!(snapshot.len(), 1);
    assert_eq!(snapshot[0].component().name(), "upstream");
    assert_eq!(snapshot[0].component().kind(), "bulkhead");
    let report = snapshot[0].report();
    assert_eq!(report.status(), Status::Pass);
    assert_eq!(report.get("in_flight"), Some(&Value::Unsigned(0)));
    assert_eq!(report.get("max_in_flight"), Some(&Value::Unsigned(2)));

    assert_ready_ok!(service.poll_ready());
    let _one = service.call("one");
    assert_ready_ok!(service.poll_ready());
    let report = registry.snapshot()[0].report().clone();
    assert_eq!(report.status(), Status::Warn, "every permit is taken");
    assert_eq!(report.get("in_flight"), Some(&Value::Unsigned(2)));

    // The component lasts as long as the bulkhead does.
    drop((service, _one));
    assert!(registry.snapshot().is_empty());
}

#[tokio::test(start_paused = true)]
async fn health_reports_each_partition() {
    let registry = HealthRegistry::new();
    let layer = BulkheadLayer::builder()
        .max_in_flight(4)
        .partition("gold", 2)
        .partition_with_max("silver", 1, 2)
        .partition_key(tenant)
        .health(&registry)
        .build()
        .unwrap();
    let (mut service, _mocks) = mock::spawn_layer::<Request, (), _>(layer);
    let mut held = Vec::new();
    for request in ["gold", "gold", "gold", "silver"] {
        assert_ready_ok!(service.poll_ready());
        held.push(service.call(request));
    }

    let report = registry.snapshot()[0].report().clone();
    assert_eq!(report.status(), Status::Warn);
    assert_eq!(report.get("pool_in_use"), Some(&Value::Unsigned(1)));
    assert_eq!(report.get("pool_size"), Some(&Value::Unsigned(1)));
    assert_eq!(
        report.get("partitions"),
        Some(&Value::Text(
            "gold 3/4 (guaranteed 2), silver 1/2 (guaranteed 1)".into()
        ))
    );
}

#[tokio::test(start_paused = true)]
async fn metrics_count_in_flight_and_refusals() {
    let recorder = TestRecorder::default();
    let layer = metrics::with_local_recorder(&recorder, || {
        BulkheadLayer::builder()
            .name("payments")
            .max_in_flight(1)
            .build()
            .unwrap()
    });
    let (mut service, _mocks) = mock::spawn_layer::<Request, (), _>(layer);
    let in_flight = "seawall_bulkhead_in_flight{name=payments}";
    let rejected = "seawall_bulkhead_rejected_total{name=payments}";
    assert_eq!(recorder.value(in_flight), Some(0.0));
    assert_eq!(recorder.value(rejected), Some(0.0));

    assert_ready_ok!(service.poll_ready());
    let held = service.call("held");
    assert_eq!(recorder.value(in_flight), Some(1.0));

    assert_ready_ok!(service.poll_ready());
    service.call("refused").await.unwrap_err();
    assert_eq!(recorder.value(rejected), Some(1.0));

    drop(held);
    assert_eq!(recorder.value(in_flight), Some(0.0));
}

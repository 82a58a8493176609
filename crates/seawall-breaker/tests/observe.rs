//! What operators see: the handle, the health report and the metrics (the
//! tracing events are in `events.rs`).

use std::time::Duration;

use seawall_breaker::{BreakerConfig, BreakerState, CircuitBreakerLayer, HEALTH_KIND};
use seawall_core::health::{HealthRegistry, Status, Value};
use seawall_core::{FailureKind, Outcome};
use seawall_test_support::recorder::TestRecorder;

const FAILED: Outcome = Outcome::Failure(FailureKind::Error);

fn tripping_layer(name: &'static str) -> CircuitBreakerLayer {
    let config = BreakerConfig::builder()
        .name(name)
        .consecutive_failures(2)
        .open_duration(Duration::from_secs(30))
        .critical(true)
        .build()
        .unwrap();
    CircuitBreakerLayer::new(config)
}

fn fail(layer: &CircuitBreakerLayer) {
    let permit = layer.breaker().try_acquire().expect("admitted");
    permit.record(FAILED, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn the_handle_reads_and_controls_the_breaker() {
    let layer = tripping_layer("orders");
    let handle = layer.handle();
    let clone = handle.clone();
    assert_eq!(handle.name(), "orders");

    fail(&layer);
    assert_eq!(handle.stats().consecutive_failures, 1);
    fail(&layer);
    let stats = clone.stats();
    assert_eq!(stats.state, BreakerState::Open);
    assert_eq!(stats.retry_after, Some(Duration::from_secs(30)));
    assert_eq!(
        (stats.calls, stats.failures, stats.failure_rate),
        (2, 2, 1.0)
    );
    assert_eq!(stats.trips, 1);

    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(handle.state(), BreakerState::HalfOpen);

    handle.force_closed();
    assert_eq!(clone.state(), BreakerState::Closed);
    assert!(layer.breaker().try_acquire().is_ok());

    handle.force_open();
    assert!(layer.breaker().try_acquire().unwrap_err().is_forced());
    handle.disable();
    assert_eq!(clone.state(), BreakerState::Disabled);
    fail(&layer);
    fail(&layer);
    assert_eq!(handle.stats().calls, 0);

    handle.metrics_only();
    fail(&layer);
    fail(&layer);
    let stats = handle.stats();
    assert_eq!(
        (stats.state, stats.shadow_trips),
        (BreakerState::MetricsOnly, 1)
    );

    handle.reset();
    let stats = handle.stats();
    assert_eq!(stats.state, BreakerState::Closed);
    assert_eq!((stats.trips, stats.shadow_trips, stats.rejected), (0, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn the_health_report_follows_the_state() {
    let registry = HealthRegistry::new();
    let layer = tripping_layer("payments").with_health(&registry);

    let snapshot = registry.snapshot();
    assert_eq!(snapshot.len(), 1);
    let entry = &snapshot[0];
    assert_eq!(entry.component().name(), "payments");
    assert_eq!(entry.component().kind(), HEALTH_KIND);
    assert!(entry.component().is_critical());
    assert_eq!(entry.report().status(), Status::Pass);
    assert_eq!(entry.report().get("state"), Some(&Value::from("closed")));

    fail(&layer);
    fail(&layer);
    let report = registry.snapshot()[0].report().clone();
    assert_eq!(report.status(), Status::Fail);
    assert_eq!(report.get("state"), Some(&Value::from("open")));
    assert_eq!(report.get("failure_rate"), Some(&Value::Float(1.0)));
    assert_eq!(report.get("slow_rate"), Some(&Value::Float(0.0)));
    assert_eq!(report.get("calls"), Some(&Value::Unsigned(2)));
    assert_eq!(report.get("retry_after_ms"), Some(&Value::Unsigned(30_000)));

    // An idle breaker past its open period reads half-open: warn, so a
    // load balancer does not keep it out of rotation forever.
    tokio::time::advance(Duration::from_secs(30)).await;
    let report = registry.snapshot()[0].report().clone();
    assert_eq!(report.status(), Status::Warn);
    assert_eq!(report.get("state"), Some(&Value::from("half_open")));

    // The registry holds the breaker weakly.
    drop(layer);
    assert!(registry.snapshot().is_empty());
}

#[tokio::test(start_paused = true)]
async fn metrics_are_registered_at_build_and_counted_per_call() {
    let recorder = TestRecorder::default();
    let layer = metrics::with_local_recorder(&recorder, || tripping_layer("stock"));
    // Every outcome has its series from the start.
    for outcome in [
        "success",
        "error",
        "timeout",
        "slow",
        "rejected",
        "ignored",
        "cancelled",
    ] {
        let name = format!("seawall_breaker_calls_total{{name=stock,outcome={outcome}}}");
        assert_eq!(recorder.counter(&name), 0);
    }
    assert_eq!(recorder.gauge("seawall_breaker_state{name=stock}"), 0.0);

    let breaker = layer.breaker();
    breaker
        .try_acquire()
        .unwrap()
        .record(Outcome::Success, Duration::ZERO);
    drop(breaker.try_acquire().unwrap());
    fail(&layer);
    fail(&layer);
    assert!(breaker.try_acquire().is_err());

    assert_eq!(
        recorder.counter("seawall_breaker_calls_total{name=stock,outcome=success}"),
        1
    );
    assert_eq!(
        recorder.counter("seawall_breaker_calls_total{name=stock,outcome=cancelled}"),
        1
    );
    assert_eq!(
        recorder.counter("seawall_breaker_calls_total{name=stock,outcome=error}"),
        2
    );
    assert_eq!(
        recorder.counter("seawall_breaker_rejected_total{name=stock}"),
        1
    );
    assert_eq!(recorder.gauge("seawall_breaker_state{name=stock}"), 2.0);
    let rate = recorder.gauge("seawall_breaker_failure_rate{name=stock}");
    assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{rate}");
}

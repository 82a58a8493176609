//! Metrics and health reports (the log events are in `events.rs`).

mod support;

use seawall_core::health::{HealthRegistry, Status, Value};
use seawall_governor::{Quota, RateLimitLayer};
use seawall_test_support::recorder::TestRecorder;
use support::{keyed, ByValue};
use tokio::time::Instant;

#[test]
fn metrics_count_refusals_by_quota_and_keys() {
    let recorder = TestRecorder::default();
    let layer = metrics::with_local_recorder(&recorder, || keyed(2));
    let refused_client = "seawall_governor_refused_total{name=api,quota=client}";
    let refused_global = "seawall_governor_refused_total{name=api,quota=global}";
    let keys = "seawall_governor_keys{name=api}";
    let evicted = "seawall_governor_evicted_total{name=api}";
    let unavailable = "seawall_governor_key_unavailable_total{name=api}";
    for registered in [refused_client, refused_global, keys, evicted, unavailable] {
        assert_eq!(recorder.value(registered), Some(0.0), "{registered}");
    }

    let limiter = layer.limiter();
    let now = limiter.origin();
    limiter.check_key_at(&1, now).unwrap();
    limiter.check_key_at(&1, now).unwrap_err();
    assert_eq!(recorder.value(refused_client), Some(1.0));
    assert_eq!(recorder.value(keys), Some(1.0));

    limiter.check_key_at(&2, now).unwrap();
    limiter.check_key_at(&3, now).unwrap();
    assert_eq!(recorder.value(keys), Some(2.0), "held within the capacity");
    assert_eq!(recorder.value(evicted), Some(1.0));
    assert_eq!(limiter.keys(), 2);

    for key in 4..20 {
        let _ = limiter.check_key_at(&key, now);
    }
    assert!(recorder.value(refused_global).unwrap() > 0.0);
}

#[test]
fn health_reports_headroom_refusals_and_keys() {
    let registry = HealthRegistry::new();
    let layer = RateLimitLayer::builder()
        .name("api")
        .quota(Quota::per_second(2).named("global"))
        .key_by((|n: &u32| Some(*n)) as ByValue)
        .key_quota(Quota::per_second(1).named("client"))
        .capacity(100)
        .health(&registry)
        .build()
        .unwrap();
    let limiter = layer.limiter();

    let snapshot = registry.snapshot();
    assert_eq!(snapshot.len(), 1);
    assert_eq!(snapshot[0].component().name(), "api");
    assert_eq!(snapshot[0].component().kind(), "governor");
    let report = snapshot[0].report();
    assert_eq!(report.status(), Status::Pass);
    assert_eq!(report.get("headroom"), Some(&Value::Unsigned(2)));
    assert_eq!(report.get("keys"), Some(&Value::Unsigned(0)));
    assert_eq!(report.get("capacity"), Some(&Value::Unsigned(100)));

    let now = Instant::now();
    limiter.check_key_at(&1, now).unwrap();
    limiter.check_key_at(&1, now).unwrap_err();
    limiter.check_key_at(&2, now).unwrap();
    limiter.check_key_at(&3, now).unwrap_err();

    let report = registry.snapshot()[0].report().clone();
    assert_eq!(report.status(), Status::Warn, "the global quota is spent");
    assert_eq!(report.get("headroom"), Some(&Value::Unsigned(0)));
    assert_eq!(report.get("refused"), Some(&Value::Unsigned(2)));
    assert_eq!(
        report.get("refused_by_quota"),
        Some(&Value::Text("global=1, client=1, key_unavailable=0".into()))
    );
    assert_eq!(report.get("keys"), Some(&Value::Unsigned(3)));
    assert_eq!(
        report.get("quotas"),
        Some(&Value::Text(
            "global 0/2 per 1s, client 1 per 1s per key".into()
        ))
    );

    drop((layer, limiter));
    assert!(registry.snapshot().is_empty(), "gone with the limiter");
}

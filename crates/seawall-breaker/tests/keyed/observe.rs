//! What operators see of a keyed layer: the handle, one health component
//! and a bounded set of metric series. (The eviction event is tested in
//! `tests/events.rs`, a binary where every test subscribes first.)

use std::time::Duration;

use seawall_breaker::{BreakerState, KEYED_HEALTH_KIND};
use seawall_core::health::{HealthRegistry, Status, Value};
use seawall_test_support::recorder::TestRecorder;
use tower::Layer as _;
use tower_test::mock;

use crate::{call, fragile, layer, refused, Mock, UpstreamDown};

#[tokio::test(start_paused = true)]
async fn the_handle_lists_and_controls_keys() {
    let keyed = layer(fragile("hosts"), 10);
    let breakers = keyed.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| keyed.layer(mock));
    assert!(breakers.is_empty());
    assert_eq!((breakers.name(), breakers.capacity()), ("hosts", 10));

    call(&mut service, &mut handle, "a", Ok("fine"))
        .await
        .unwrap();
    // An operator cuts off a host before it is ever called.
    let b = breakers.force_open("b");
    assert_eq!(b.name(), "hosts/b");
    let error = refused(&mut service, &mut handle, "b").await;
    assert_eq!(error.to_string(), "circuit \"hosts/b\" forced open");
    assert_eq!(
        breakers.keys(),
        [
            ("a".into(), BreakerState::Closed),
            ("b".into(), BreakerState::ForcedOpen),
        ]
    );

    // Closing a key that is not held does nothing.
    assert!(!breakers.force_closed("never-seen"));
    assert!(breakers.get("never-seen").is_none());
    assert!(breakers.force_closed("b"));
    call(&mut service, &mut handle, "b", Ok("fine"))
        .await
        .unwrap();

    // A key's handle is the breaker's own: disable one host's breaker.
    breakers.get("a").unwrap().disable();
    for _ in 0..3 {
        call(&mut service, &mut handle, "a", Err(UpstreamDown.into()))
            .await
            .unwrap_err();
    }
    assert_eq!(breakers.get("a").unwrap().state(), BreakerState::Disabled);
    assert_eq!(breakers.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn one_health_component_sums_up_every_key() {
    let registry = HealthRegistry::new();
    let template = seawall_breaker::BreakerConfig::builder()
        .name("hosts")
        .consecutive_failures(1)
        .open_duration(Duration::from_secs(10))
        .critical(true)
        .build()
        .unwrap();
    let keyed = layer(template, 10).with_health(&registry);
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| keyed.layer(mock));
    let report = || {
        let snapshot = registry.snapshot();
        assert_eq!(snapshot.len(), 1, "one component, whatever the keys");
        assert_eq!(snapshot[0].component().name(), "hosts");
        assert_eq!(snapshot[0].component().kind(), KEYED_HEALTH_KIND);
        assert!(snapshot[0].component().is_critical());
        snapshot[0].report().clone()
    };
    assert_eq!(report().status(), Status::Pass);
    assert_eq!(report().get("capacity"), Some(&Value::Unsigned(10)));

    call(&mut service, &mut handle, "a", Ok("fine"))
        .await
        .unwrap();
    call(&mut service, &mut handle, "b", Err(UpstreamDown.into()))
        .await
        .unwrap_err();
    let now = report();
    assert_eq!(now.status(), Status::Warn);
    assert_eq!(now.get("keys"), Some(&Value::Unsigned(2)));
    assert_eq!(now.get("open"), Some(&Value::Unsigned(1)));
    assert_eq!(now.get("half_open"), Some(&Value::Unsigned(0)));

    // Every held key open: the layer fails.
    call(&mut service, &mut handle, "a", Err(UpstreamDown.into()))
        .await
        .unwrap_err();
    assert_eq!(report().status(), Status::Fail);

    // Past the open period both read half-open: a warning.
    tokio::time::advance(Duration::from_secs(10)).await;
    let later = report();
    assert_eq!(later.status(), Status::Warn);
    assert_eq!(later.get("half_open"), Some(&Value::Unsigned(2)));

    drop(service);
    drop(keyed);
    assert!(registry.snapshot().is_empty());
}

#[tokio::test(start_paused = true)]
async fn many_keys_share_one_set_of_series() {
    let recorder = TestRecorder::default();
    let keyed = metrics::with_local_recorder(&recorder, || layer(fragile("hosts"), 3));
    let registered = recorder.names();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| keyed.layer(mock));

    // Hosts are added and evicted with no recorder in reach: a key's
    // breaker clones the layer's handles and registers nothing.
    for host in ["a", "b", "c", "d", "e"] {
        call(&mut service, &mut handle, host, Ok("fine"))
            .await
            .unwrap();
    }
    for _ in 0..2 {
        call(&mut service, &mut handle, "down", Err(UpstreamDown.into()))
            .await
            .unwrap_err();
    }
    refused(&mut service, &mut handle, "down").await;

    assert_eq!(recorder.names(), registered);
    assert!(
        registered
            .iter()
            .all(|series| series.contains("name=hosts")),
        "{registered:?}"
    );
    assert_eq!(registered.len(), 7 + 4, "{registered:?}");
    assert_eq!(
        recorder.counter("seawall_breaker_calls_total{name=hosts,outcome=success}"),
        5
    );
    assert_eq!(
        recorder.counter("seawall_breaker_calls_total{name=hosts,outcome=error}"),
        2
    );
    assert_eq!(
        recorder.counter("seawall_breaker_rejected_total{name=hosts}"),
        1
    );
    assert_eq!(recorder.gauge("seawall_breaker_keys{name=hosts}"), 3.0);
    assert_eq!(
        recorder.counter("seawall_breaker_evictions_total{name=hosts}"),
        3
    );
    assert_eq!(recorder.gauge("seawall_breaker_keys_open{name=hosts}"), 1.0);

    // The open key closes after a good probe: no key is open.
    tokio::time::advance(Duration::from_secs(10)).await;
    call(&mut service, &mut handle, "down", Ok("back"))
        .await
        .unwrap();
    assert_eq!(recorder.gauge("seawall_breaker_keys_open{name=hosts}"), 0.0);

    // An open key that is evicted takes its share of the gauge with it.
    let breakers = keyed.handle();
    for host in ["x", "y", "z"] {
        breakers.force_open(host);
    }
    assert_eq!(recorder.gauge("seawall_breaker_keys_open{name=hosts}"), 3.0);
    call(&mut service, &mut handle, "fresh", Ok("fine"))
        .await
        .unwrap();
    assert_eq!(recorder.gauge("seawall_breaker_keys_open{name=hosts}"), 2.0);
    assert_eq!(recorder.gauge("seawall_breaker_keys{name=hosts}"), 3.0);
}

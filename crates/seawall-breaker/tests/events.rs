//! The breaker's tracing events: transitions, rejections and a keyed
//! layer's evictions, under the breaker's target.
//!
//! A test binary of their own, where every test installs its subscriber
//! before it reaches an event: tracing caches each event's interest when
//! the event is first reached, and a test on another thread reaching it
//! with no subscriber, while one is installed here, could leave it cached
//! as never enabled. Keep it so: a test added here installs first.

use std::sync::Arc;
use std::time::Duration;

use seawall_breaker::{Breaker, BreakerConfig, KeyedBreakerConfig, KeyedCircuitBreakerLayer};
use seawall_core::{FailureKind, Outcome};
use seawall_test_support::capture::{Capture, Captured};
use tokio::time::Instant;

const TARGET: &str = "seawall::breaker";

/// The events of the breaker's target whose message is `message`.
fn find(capture: &Capture, message: &str) -> Vec<Captured> {
    capture
        .find(message)
        .into_iter()
        .filter(|event| event.target == TARGET)
        .collect()
}

#[test]
fn a_transition_is_a_debug_event_with_its_fields() {
    let capture = Capture::default();
    let config = BreakerConfig::builder()
        .name("search")
        .consecutive_failures(1)
        .open_duration(Duration::from_secs(7))
        .build()
        .unwrap();
    let t0 = Instant::now();
    tracing::subscriber::with_default(capture.clone(), || {
        let breaker = Arc::new(Breaker::new_at(&config, t0));
        let permit = breaker.try_acquire_at(t0).unwrap();
        permit.record_at(Outcome::Failure(FailureKind::Error), Duration::ZERO, t0);
        assert!(breaker.try_acquire_at(t0).is_err());
    });

    let transitions = find(&capture, "circuit breaker transition");
    assert_eq!(transitions.len(), 1, "{transitions:?}");
    let transition = &transitions[0];
    assert_eq!(transition.level, tracing::Level::DEBUG);
    let field = |name: &str| transition.field(name);
    assert_eq!(field("name"), Some("search"));
    assert_eq!(field("from"), Some("closed"));
    assert_eq!(field("state"), Some("open"));
    assert_eq!(field("cause"), Some("consecutive_failures"));
    assert_eq!(field("failure_rate"), Some("1.0"));
    assert_eq!(field("slow_rate"), Some("0.0"));
    assert_eq!(field("retry_after"), Some("7s"));

    let rejections = find(&capture, "call rejected");
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0].level, tracing::Level::TRACE);
    assert_eq!(rejections[0].fields["state"], "open");
}

#[test]
fn eviction_is_a_debug_event() {
    let capture = Capture::default();
    let config = KeyedBreakerConfig::builder()
        .template(BreakerConfig::builder().name("hosts").build().unwrap())
        .capacity(2)
        .build()
        .unwrap();
    let keyed = KeyedCircuitBreakerLayer::new(config, |key: &&'static str| *key);
    let breakers = keyed.handle();
    tracing::subscriber::with_default(capture.clone(), || {
        breakers.force_open("down");
        breakers.get_or_insert("a");
        breakers.get_or_insert("b");
    });

    let evicted = find(&capture, "keyed breaker evicted keys");
    assert_eq!(evicted.len(), 1, "{evicted:?}");
    let eviction = &evicted[0];
    assert_eq!(eviction.level, tracing::Level::DEBUG);
    assert_eq!(eviction.fields["name"], "hosts");
    assert_eq!(eviction.fields["evicted"], "1");
    assert_eq!(eviction.fields["tripped"], "0");
    let keys = find(&capture, "key evicted");
    let key = keys.first().expect("a trace event per key");
    assert_eq!(
        (key.level, key.fields["key"].as_str()),
        (tracing::Level::TRACE, "a")
    );
    // The forced key's transition was logged under its own name.
    assert!(capture
        .events()
        .iter()
        .any(|event| event.target == TARGET && event.field("name") == Some("hosts/down")));
}

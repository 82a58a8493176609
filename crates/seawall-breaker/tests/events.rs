//! The breaker's tracing events: transitions, rejections and a keyed
//! layer's evictions, under the breaker's target.
//!
//! A test binary of their own, where every test installs its subscriber
//! before it reaches an event: tracing caches each event's interest when
//! the event is first reached, and a test on another thread reaching it
//! with no subscriber, while one is installed here, could leave it cached
//! as never enabled. Keep it so: a test added here installs first.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seawall_breaker::{Breaker, BreakerConfig, KeyedBreakerConfig, KeyedCircuitBreakerLayer};
use seawall_core::{FailureKind, Outcome};
use tokio::time::Instant;

/// An event's level and fields.
type Event = (tracing::Level, BTreeMap<String, String>);

/// A subscriber keeping each event of the breaker's target.
#[derive(Clone, Default)]
struct Capture {
    events: Arc<Mutex<Vec<Event>>>,
}

struct Fields(BTreeMap<String, String>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        if event.metadata().target() != "seawall::breaker" {
            return;
        }
        let mut fields = Fields(BTreeMap::new());
        event.record(&mut fields);
        let level = *event.metadata().level();
        self.events.lock().unwrap().push((level, fields.0));
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

impl Capture {
    /// The events whose message is `message`.
    fn find(&self, message: &str) -> Vec<Event> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .filter(|(_, fields)| fields["message"] == message)
            .cloned()
            .collect()
    }
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

    let transitions = capture.find("circuit breaker transition");
    assert_eq!(transitions.len(), 1, "{transitions:?}");
    let (level, fields) = &transitions[0];
    assert_eq!(*level, tracing::Level::DEBUG);
    let field = |name: &str| fields.get(name).map(String::as_str);
    assert_eq!(field("name"), Some("search"));
    assert_eq!(field("from"), Some("closed"));
    assert_eq!(field("state"), Some("open"));
    assert_eq!(field("cause"), Some("consecutive_failures"));
    assert_eq!(field("failure_rate"), Some("1.0"));
    assert_eq!(field("slow_rate"), Some("0.0"));
    assert_eq!(field("retry_after"), Some("7s"));

    let rejections = capture.find("call rejected");
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0].0, tracing::Level::TRACE);
    assert_eq!(rejections[0].1["state"], "open");
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

    let evicted = capture.find("keyed breaker evicted keys");
    assert_eq!(evicted.len(), 1, "{evicted:?}");
    let (level, fields) = &evicted[0];
    assert_eq!(*level, tracing::Level::DEBUG);
    assert_eq!(fields["name"], "hosts");
    assert_eq!(fields["evicted"], "1");
    assert_eq!(fields["tripped"], "0");
    let keys = capture.find("key evicted");
    let key = keys.first().expect("a trace event per key");
    assert_eq!((key.0, key.1["key"].as_str()), (tracing::Level::TRACE, "a"));
    // The forced key's transition was logged under its own name.
    let events = capture.events.lock().unwrap();
    assert!(events
        .iter()
        .any(|(_, f)| f.get("name").map(String::as_str) == Some("hosts/down")));
}

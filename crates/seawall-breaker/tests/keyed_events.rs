//! A keyed layer logs its evictions under the breaker's target.
//!
//! Alone in its test binary: tracing caches each event's interest when the
//! event is first reached, and a test on another thread reaching it with no
//! subscriber could leave the capturing one here without it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use seawall_breaker::{BreakerConfig, KeyedBreakerConfig, KeyedCircuitBreakerLayer};

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

    let events = capture.events.lock().unwrap();
    let evicted: Vec<_> = events
        .iter()
        .filter(|(_, f)| f["message"] == "keyed breaker evicted keys")
        .collect();
    assert_eq!(evicted.len(), 1, "{events:?}");
    let (level, fields) = evicted[0];
    assert_eq!(*level, tracing::Level::DEBUG);
    assert_eq!(fields["name"], "hosts");
    assert_eq!(fields["evicted"], "1");
    assert_eq!(fields["tripped"], "0");
    let key = events
        .iter()
        .find(|(_, f)| f["message"] == "key evicted")
        .expect("a trace event per key");
    assert_eq!((key.0, key.1["key"].as_str()), (tracing::Level::TRACE, "a"));
    // The forced key's transition was logged under its own name.
    assert!(events
        .iter()
        .any(|(_, f)| f.get("name").map(String::as_str) == Some("hosts/down")));
}

//! The governor's log events: refusals and evictions.
//!
//! A test binary of their own, where every test installs its subscriber
//! before it reaches an event: tracing caches each event's interest when
//! the event is first reached, and a test on another thread reaching it
//! with no subscriber, while one is installed here, could leave it cached
//! as never enabled. Keep it so: a test added here installs first.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seawall_governor::{KeyedRateLimitLayer, Quota, RateLimitLayer};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};

type ByValue = fn(&u32) -> Option<u32>;

fn keyed(capacity: usize) -> KeyedRateLimitLayer<ByValue, u32> {
    RateLimitLayer::builder()
        .name("api")
        .quota(Quota::per_second(10).named("global"))
        .key_by((|n: &u32| if *n == 0 { None } else { Some(*n) }) as ByValue)
        .key_quota(Quota::per_minute(1).named("client"))
        .capacity(capacity)
        .build()
        .unwrap()
}

#[test]
fn refusals_and_evictions_are_logged_with_their_fields() {
    let events = Events::default();
    let _guard = tracing::subscriber::set_default(events.clone());
    let layer = keyed(1);
    let limiter = layer.limiter();
    let now = limiter.origin();
    limiter.check_key_at(&1, now).unwrap();
    limiter.check_key_at(&1, now).unwrap_err();
    limiter
        .check_key_at(&2, now + Duration::from_secs(120))
        .unwrap();

    let events = events.0.lock().unwrap();
    let refusal = events
        .iter()
        .find(|e| e.contains("request refused"))
        .unwrap_or_else(|| panic!("{events:#?}"));
    assert!(refusal.starts_with("TRACE seawall::governor"), "{refusal}");
    assert!(refusal.contains("name=api"), "{refusal}");
    assert!(refusal.contains("quota=\"client\""), "{refusal}");
    assert!(refusal.contains("retry_after=60s"), "{refusal}");

    let eviction = events
        .iter()
        .find(|e| e.contains("keys evicted"))
        .unwrap_or_else(|| panic!("{events:#?}"));
    assert!(
        eviction.starts_with("DEBUG seawall::governor"),
        "{eviction}"
    );
    assert!(eviction.contains("evicted=1"), "{eviction}");
    assert!(eviction.contains("limited=0"), "idle at 120 s: {eviction}");
}

/// Records each event as `LEVEL target field=value ...`.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<String>>>);

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
}

impl Subscriber for Events {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(Level::TRACE.into())
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut line = Line(format!("{} {}", meta.level(), meta.target()));
        event.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

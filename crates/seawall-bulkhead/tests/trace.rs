//! Each refusal is logged at trace under `seawall::bulkhead`.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use seawall_bulkhead::BulkheadLayer;
use tokio_test::assert_ready_ok;
use tower_test::mock;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

type Request = &'static str;

fn tenant(request: &Request) -> Option<&str> {
    Some(request)
}

#[tokio::test(start_paused = true)]
async fn a_refusal_is_logged_with_its_fields() {
    let events = Events::default();
    let _guard = tracing::subscriber::set_default(events.clone());
    // Another test's thread may have cached an event site as never
    // enabled before this subscriber existed; recompute every site's
    // interest now.
    tracing::callsite::rebuild_interest_cache();

    let layer = BulkheadLayer::builder()
        .name("tenants")
        .max_in_flight(1)
        .partition("gold", 1)
        .partition_key(tenant)
        .build()
        .unwrap();
    let (mut service, _mocks) = mock::spawn_layer::<Request, (), _>(layer);
    assert_ready_ok!(service.poll_ready());
    let _held = service.call("gold");
    assert_ready_ok!(service.poll_ready());
    service.call("gold").await.unwrap_err();

    let events = events.0.lock().unwrap();
    let refusals: Vec<_> = events
        .iter()
        .filter(|e| e.contains("request refused"))
        .collect();
    assert_eq!(refusals.len(), 1, "{events:#?}");
    let refusal = refusals[0];
    assert!(refusal.starts_with("TRACE seawall::bulkhead"), "{refusal}");
    assert!(refusal.contains("name=tenants"), "{refusal}");
    assert!(refusal.contains("partition=\"gold\""), "{refusal}");
    assert!(refusal.contains("max_in_flight=1"), "{refusal}");
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
    fn enabled(&self, _: &Metadata<'_>) -> bool {
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

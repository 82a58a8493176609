//! A tracing subscriber that keeps every event for assertions.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::{DefaultGuard, Interest};
use tracing::{Event, Level, Metadata, Subscriber};

/// Keeps every event it is given, of every level and target.
///
/// Clones share one list of events: install one clone and read from
/// another. Spans are accepted and forgotten.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    events: Arc<Mutex<Vec<Captured>>>,
}

/// One event as the [`Capture`] kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// The event's level.
    pub level: Level,
    /// The event's target.
    pub target: String,
    /// Every field by name, the message under `message`: a `&str` value as
    /// it is, any other value in its `Debug` form.
    pub fields: BTreeMap<String, String>,
}

impl Capture {
    /// Makes this capture the current thread's subscriber until the guard
    /// drops.
    ///
    /// It then rebuilds every event site's cached interest, in case a thread
    /// with no subscriber cached a site as never enabled. That narrows the
    /// race but does not close it: install before the test reaches any
    /// event site, in a test binary where every test does the same.
    pub fn install(&self) -> DefaultGuard {
        let guard = tracing::subscriber::set_default(self.clone());
        tracing::callsite::rebuild_interest_cache();
        guard
    }

    /// Every event so far, oldest first.
    pub fn events(&self) -> Vec<Captured> {
        lock(&self.events).clone()
    }

    /// Every event so far, oldest first, leaving none behind.
    pub fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *lock(&self.events))
    }

    /// The events so far whose `message` field is `message`, oldest first.
    pub fn find(&self, message: &str) -> Vec<Captured> {
        lock(&self.events)
            .iter()
            .filter(|event| event.field("message") == Some(message))
            .cloned()
            .collect()
    }
}

impl Captured {
    /// The value of the field `name`, if the event has it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

impl Subscriber for Capture {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // Not "always": the interest is shared by every thread, and threads
        // without this subscriber must not be made to build their events.
        Interest::sometimes()
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(BTreeMap::new());
        event.record(&mut fields);
        let metadata = event.metadata();
        lock(&self.events).push(Captured {
            level: *metadata.level(),
            target: metadata.target().to_owned(),
            fields: fields.0,
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Collects an event's fields as strings.
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

/// Locks the events, whatever a panicking test left in them.
fn lock(events: &Mutex<Vec<Captured>>) -> MutexGuard<'_, Vec<Captured>> {
    events.lock().unwrap_or_else(PoisonError::into_inner)
}

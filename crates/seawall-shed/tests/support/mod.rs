//! Helpers shared by the integration tests: a limit algorithm the test
//! steers and reads, a metrics recorder and a tracing subscriber that keep
//! what they are given.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use seawall_core::BoxError;
use seawall_shed::limit::{LimitAlgorithm, Sample};
use seawall_shed::Overloaded;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata as TraceMetadata, Subscriber};

/// A limit the test sets, and every sample the shedder fed it.
#[derive(Clone)]
pub struct Probe {
    state: Arc<Mutex<ProbeState>>,
    learns: bool,
}

struct ProbeState {
    limit: usize,
    samples: Vec<Sample>,
}

impl Probe {
    /// An algorithm that holds `limit` until told otherwise.
    pub fn new(limit: usize) -> Self {
        Probe {
            state: Arc::new(Mutex::new(ProbeState {
                limit,
                samples: Vec::new(),
            })),
            learns: true,
        }
    }

    /// Like [`Probe::new`], but says it learns nothing, as a fixed limit
    /// does, so it should never be fed.
    #[allow(dead_code)]
    pub fn deaf(limit: usize) -> Self {
        Probe {
            learns: false,
            ..Probe::new(limit)
        }
    }

    /// The limit the next sample publishes.
    pub fn set_limit(&self, limit: usize) {
        self.state.lock().unwrap().limit = limit;
    }

    /// Every sample so far.
    pub fn samples(&self) -> Vec<Sample> {
        self.state.lock().unwrap().samples.clone()
    }
}

impl LimitAlgorithm for Probe {
    fn initial_limit(&self) -> usize {
        self.state.lock().unwrap().limit
    }

    fn update(&mut self, sample: &Sample) -> usize {
        let mut state = self.state.lock().unwrap();
        state.samples.push(*sample);
        state.limit
    }

    fn name(&self) -> &'static str {
        "probe"
    }

    fn learns(&self) -> bool {
        self.learns
    }
}

/// The refusal inside `error`, or a panic naming what it was instead.
pub fn overloaded(error: &BoxError) -> Overloaded {
    error
        .downcast_ref::<Overloaded>()
        .unwrap_or_else(|| panic!("expected Overloaded, got {error}"))
        .clone()
}

/// Keeps every registered counter and gauge as an atomic, by
/// `name{label=value,...}`.
#[derive(Default)]
pub struct TestRecorder {
    counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
    gauges: Mutex<HashMap<String, Arc<AtomicU64>>>,
}

impl TestRecorder {
    pub fn value(&self, key: &str) -> Option<f64> {
        if let Some(counter) = self.counters.lock().unwrap().get(key) {
            return Some(counter.load(Ordering::Relaxed) as f64);
        }
        let gauges = self.gauges.lock().unwrap();
        let gauge = gauges.get(key)?;
        Some(f64::from_bits(gauge.load(Ordering::Relaxed)))
    }

    fn slot(map: &Mutex<HashMap<String, Arc<AtomicU64>>>, key: &Key) -> Arc<AtomicU64> {
        let labels: Vec<_> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        map.lock().unwrap().entry(name).or_default().clone()
    }
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Self::slot(&self.counters, key))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Self::slot(&self.gauges, key))
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

/// A tracing subscriber that keeps every event.
#[derive(Clone, Default)]
pub struct Capture {
    events: Arc<Mutex<Vec<Captured>>>,
}

#[derive(Debug, Clone)]
pub struct Captured {
    pub level: Level,
    pub target: String,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

impl Capture {
    /// Makes this the subscriber of the current thread until the guard
    /// drops.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let guard = tracing::subscriber::set_default(self.clone());
        tracing::callsite::rebuild_interest_cache();
        guard
    }

    pub fn events(&self) -> Vec<Captured> {
        self.events.lock().unwrap().clone()
    }
}

impl Captured {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

impl Subscriber for Capture {
    fn register_callsite(
        &self,
        _: &'static TraceMetadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, _: &TraceMetadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        let message = fields
            .iter()
            .find(|(key, _)| key == "message")
            .map(|(_, value)| value.clone())
            .unwrap_or_default();
        self.events.lock().unwrap().push(Captured {
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            message,
            fields,
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

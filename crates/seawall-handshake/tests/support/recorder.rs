//! A metrics recorder for tests: every counter and gauge as an atomic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

/// Keeps every registered counter and gauge as an atomic, by
/// `name{label=value,...}`.
#[derive(Default)]
pub(crate) struct TestRecorder {
    counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
    gauges: Mutex<HashMap<String, Arc<AtomicU64>>>,
}

impl TestRecorder {
    pub(crate) fn value(&self, key: &str) -> Option<f64> {
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

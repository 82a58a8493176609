//! A metrics recorder that keeps every counter and gauge for assertions.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

/// Keeps every registered counter and gauge as an atomic, by series name.
///
/// A series is named `name{label=value,...}`, its labels in the order they
/// were registered and joined by `,` (`name{}` when it has none).
/// Registering a series again hands out the same atomic, so every handle of
/// a series counts into one value. Histograms are not kept.
///
/// Install it around the code that registers the series with
/// [`metrics::with_local_recorder`].
#[derive(Debug, Default)]
pub struct TestRecorder {
    counters: Mutex<BTreeMap<String, Arc<AtomicU64>>>,
    gauges: Mutex<BTreeMap<String, Arc<AtomicU64>>>,
}

impl TestRecorder {
    /// The value of the counter or gauge `series`, or `None` when neither
    /// is registered under that name.
    pub fn value(&self, series: &str) -> Option<f64> {
        if let Some(counter) = lock(&self.counters).get(series) {
            return Some(counter.load(Ordering::Relaxed) as f64);
        }
        let gauges = lock(&self.gauges);
        let gauge = gauges.get(series)?;
        Some(f64::from_bits(gauge.load(Ordering::Relaxed)))
    }

    /// The value of the counter `series`.
    ///
    /// # Panics
    ///
    /// When no counter is registered under that name.
    pub fn counter(&self, series: &str) -> u64 {
        let counters = lock(&self.counters);
        match counters.get(series) {
            Some(counter) => counter.load(Ordering::Relaxed),
            None => panic!(
                "no counter {series}; registered: {:?}",
                counters.keys().collect::<Vec<_>>()
            ),
        }
    }

    /// The value of the gauge `series`.
    ///
    /// # Panics
    ///
    /// When no gauge is registered under that name.
    pub fn gauge(&self, series: &str) -> f64 {
        let gauges = lock(&self.gauges);
        match gauges.get(series) {
            Some(gauge) => f64::from_bits(gauge.load(Ordering::Relaxed)),
            None => panic!(
                "no gauge {series}; registered: {:?}",
                gauges.keys().collect::<Vec<_>>()
            ),
        }
    }

    /// The name of every registered counter and gauge, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.counters).keys().cloned().collect();
        names.extend(lock(&self.gauges).keys().cloned());
        names.sort();
        names
    }
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(slot(&self.counters, key))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(slot(&self.gauges, key))
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

/// The atomic of `key`'s series in `map`, made at zero on first use.
///
/// Counters count in the atomic as an integer and gauges keep the bits of
/// an `f64`, as `metrics` implements its handle traits for `AtomicU64`.
fn slot(map: &Mutex<BTreeMap<String, Arc<AtomicU64>>>, key: &Key) -> Arc<AtomicU64> {
    let labels: Vec<String> = key
        .labels()
        .map(|label| format!("{}={}", label.key(), label.value()))
        .collect();
    let series = format!("{}{{{}}}", key.name(), labels.join(","));
    Arc::clone(lock(map).entry(series).or_default())
}

/// Locks `map`, whatever a panicking test left in it: the atomics are
/// always whole.
fn lock<T>(map: &Mutex<T>) -> MutexGuard<'_, T> {
    map.lock().unwrap_or_else(PoisonError::into_inner)
}

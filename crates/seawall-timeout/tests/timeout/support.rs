//! Helpers shared by the tests: layers, errors and a metrics recorder.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics::{Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, SharedString, Unit};
use seawall_timeout::TimeoutLayer;

pub(crate) fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// A layer with only a response timeout.
pub(crate) fn response_layer(timeout: Duration) -> TimeoutLayer {
    TimeoutLayer::new(timeout)
}

/// A layer with a response timeout of one minute and a ready timeout.
pub(crate) fn ready_layer(ready_timeout: Duration) -> TimeoutLayer {
    TimeoutLayer::builder()
        .timeout(Duration::from_secs(60))
        .ready_timeout(ready_timeout)
        .build()
        .expect("a valid configuration")
}

/// An error of the inner service, to check it passes through unchanged.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InnerError(pub(crate) &'static str);

impl fmt::Display for InnerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "inner failed: {}", self.0)
    }
}

impl std::error::Error for InnerError {}

/// A metrics recorder that keeps counters, to be installed locally.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    counters: Mutex<Vec<(Key, Arc<CounterCell>)>>,
}

#[derive(Debug, Default)]
struct CounterCell(AtomicU64);

impl CounterFn for CounterCell {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }

    fn absolute(&self, value: u64) {
        self.0.fetch_max(value, Ordering::Relaxed);
    }
}

impl Recorder {
    /// The value of the counter `name` with exactly `labels`, if registered.
    pub(crate) fn counter(&self, name: &str, labels: &[(&str, &str)]) -> Option<u64> {
        let counters = self.counters.lock().unwrap();
        let (_, cell) = counters.iter().find(|(key, _)| {
            let mut have: Vec<_> = key.labels().map(|l| (l.key(), l.value())).collect();
            let mut want = labels.to_vec();
            have.sort();
            want.sort();
            key.name() == name && have == want
        })?;
        Some(cell.0.load(Ordering::Relaxed))
    }
}

impl metrics::Recorder for Recorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let cell = Arc::new(CounterCell::default());
        let mut counters = self.counters.lock().unwrap();
        counters.push((key.clone(), Arc::clone(&cell)));
        Counter::from_arc(cell)
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

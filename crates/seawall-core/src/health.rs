//! The health registry: where stateful layers report how they are doing.
//!
//! A layer that holds state (a bulkhead's occupancy, a breaker's state, a
//! shedder's limit) registers a named component when it is built and answers
//! [`ReportHealth::report`] when asked. The handshake crate serves the
//! registry's [`snapshot`](HealthRegistry::snapshot) as a health document.
//!
//! The registry holds components weakly: when every service built by a layer
//! is gone, its component drops out of the snapshot by itself. Registering and
//! reading take a lock; nothing on the request path does.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// A component's view of its own health.
pub trait ReportHealth: Send + Sync + 'static {
    /// The component's current state.
    fn report(&self) -> HealthReport;
}

/// A shared, cloneable registry of health components.
///
/// Clones share one set of components.
///
/// ```
/// use std::sync::Arc;
/// use seawall_core::health::{Component, HealthRegistry, HealthReport, ReportHealth, Status};
///
/// struct Pool;
/// impl ReportHealth for Pool {
///     fn report(&self) -> HealthReport {
///         HealthReport::new(Status::Pass).observe("idle", 3u64)
///     }
/// }
///
/// let registry = HealthRegistry::new();
/// let pool = Arc::new(Pool);
/// registry.register(Component::new("db-pool", "pool").critical(true), &pool);
///
/// let snapshot = registry.snapshot();
/// assert_eq!(snapshot[0].component().name(), "db-pool");
/// assert_eq!(snapshot[0].report().status(), Status::Pass);
///
/// drop(pool);
/// assert!(registry.snapshot().is_empty());
/// ```
#[derive(Clone, Default)]
pub struct HealthRegistry {
    entries: Arc<Mutex<Vec<Entry>>>,
}

/// What a registered component is: its name, its kind and whether readiness
/// depends on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    name: Cow<'static, str>,
    kind: &'static str,
    critical: bool,
}

/// The state a component reports: a status and what it observed.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    status: Status,
    observations: Vec<Observation>,
}

/// A component's health, in the pass / warn / fail scale of health-check
/// documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Healthy.
    Pass,
    /// Healthy, with a concern (near a limit, shedding some work).
    Warn,
    /// Unhealthy.
    Fail,
}

/// One observed value in a [`HealthReport`].
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    name: &'static str,
    value: Value,
}

/// The value of an [`Observation`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// A count or a size.
    Unsigned(u64),
    /// A ratio or a measurement.
    Float(f64),
    /// A state name.
    Text(Cow<'static, str>),
    /// A flag.
    Bool(bool),
}

/// One component's entry in a [`HealthRegistry::snapshot`].
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentHealth {
    component: Component,
    report: HealthReport,
}

struct Entry {
    component: Component,
    source: Weak<dyn ReportHealth>,
}

impl HealthRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        HealthRegistry::default()
    }

    /// Registers `source` under `component`. The registry keeps a weak
    /// reference: the entry lasts as long as `source` does.
    pub fn register<R: ReportHealth>(&self, component: Component, source: &Arc<R>) {
        let source: Arc<dyn ReportHealth> = source.clone();
        let mut entries = self.lock();
        entries.retain(|entry| entry.source.strong_count() > 0);
        entries.push(Entry {
            component,
            source: Arc::downgrade(&source),
        });
    }

    /// The reports of every live component, in registration order.
    pub fn snapshot(&self) -> Vec<ComponentHealth> {
        // Take the live sources first, so no component's report runs under
        // the registry's lock.
        let live: Vec<(Component, Arc<dyn ReportHealth>)> = {
            let mut entries = self.lock();
            entries.retain(|entry| entry.source.strong_count() > 0);
            entries
                .iter()
                .filter_map(|e| Some((e.component.clone(), e.source.upgrade()?)))
                .collect()
        };
        live.into_iter()
            .map(|(component, source)| ComponentHealth {
                component,
                report: source.report(),
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        // A panic in another thread cannot leave the list half-written: every
        // change is a single push or retain.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for HealthRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self
            .lock()
            .iter()
            .map(|e| e.component.name.clone())
            .collect();
        f.debug_struct("HealthRegistry")
            .field("components", &names)
            .finish()
    }
}

impl Component {
    /// A component named `name` of kind `kind` (`"bulkhead"`,
    /// `"circuit_breaker"`, ...), not critical for readiness.
    pub fn new(name: impl Into<Cow<'static, str>>, kind: &'static str) -> Self {
        Component {
            name: name.into(),
            kind,
            critical: false,
        }
    }

    /// Sets whether the instance should stop taking work while this
    /// component fails.
    pub fn critical(mut self, critical: bool) -> Self {
        self.critical = critical;
        self
    }

    /// The component's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The component's kind.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Whether readiness depends on this component.
    pub fn is_critical(&self) -> bool {
        self.critical
    }
}

impl HealthReport {
    /// A report of `status` with no observations.
    pub fn new(status: Status) -> Self {
        HealthReport {
            status,
            observations: Vec::new(),
        }
    }

    /// Adds an observed value.
    pub fn observe(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.observations.push(Observation {
            name,
            value: value.into(),
        });
        self
    }

    /// The reported status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The observed values, in the order they were added.
    pub fn observations(&self) -> &[Observation] {
        &self.observations
    }

    /// The value observed under `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.observations
            .iter()
            .find(|o| o.name == name)
            .map(|o| &o.value)
    }
}

impl Status {
    /// The worse of two statuses.
    pub fn worst(self, other: Status) -> Status {
        self.max(other)
    }

    /// The status's name in health-check documents.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

impl Observation {
    /// What was observed.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The observed value.
    pub fn value(&self) -> &Value {
        &self.value
    }
}

impl ComponentHealth {
    /// The component.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// Its report.
    pub fn report(&self) -> &HealthReport {
        &self.report
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Unsigned(v)
    }
}

impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Unsigned(v as u64)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<&'static str> for Value {
    fn from(v: &'static str) -> Self {
        Value::Text(Cow::Borrowed(v))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    struct Gauge(AtomicU64);

    impl ReportHealth for Gauge {
        fn report(&self) -> HealthReport {
            let v = self.0.load(Ordering::Relaxed);
            let status = if v > 5 { Status::Warn } else { Status::Pass };
            HealthReport::new(status).observe("in_flight", v)
        }
    }

    #[test]
    fn snapshot_reads_current_state_and_forgets_dropped_components() {
        let registry = HealthRegistry::new();
        let a = Arc::new(Gauge(AtomicU64::new(1)));
        let b = Arc::new(Gauge(AtomicU64::new(9)));
        registry.register(Component::new("a", "bulkhead").critical(true), &a);
        registry
            .clone()
            .register(Component::new("b", "bulkhead"), &b);

        let snapshot = registry.snapshot();
        assert_eq!(snapshot.len(), 2);
        assert!(snapshot[0].component().is_critical());
        assert_eq!(snapshot[1].report().status(), Status::Warn);
        assert_eq!(
            snapshot[1].report().get("in_flight"),
            Some(&Value::Unsigned(9))
        );

        a.0.store(7, Ordering::Relaxed);
        assert_eq!(registry.snapshot()[0].report().status(), Status::Warn);

        drop(a);
        let names: Vec<_> = registry
            .snapshot()
            .iter()
            .map(|c| c.component().name().to_owned())
            .collect();
        assert_eq!(names, ["b"]);
    }

    #[test]
    fn worst_status_wins() {
        assert_eq!(Status::Pass.worst(Status::Warn), Status::Warn);
        assert_eq!(Status::Fail.worst(Status::Warn), Status::Fail);
        assert_eq!(Status::Pass.worst(Status::Pass), Status::Pass);
    }
}

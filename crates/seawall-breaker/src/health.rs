//! The breaker's entry in the health registry.
//!
//! Kind `"circuit_breaker"`, named after the breaker. Status `fail` while
//! the breaker refuses calls (open or forced open), `warn` while it is half
//! open, `pass` otherwise. Observations: `state`, `failure_rate`,
//! `slow_rate`, `calls` (in the window) and, while open, `retry_after_ms`.
//! The state is the one the next call would find, so an idle breaker whose
//! open period is over reports half-open rather than failing forever.

use std::sync::Arc;

use seawall_core::health::{Component, HealthRegistry, HealthReport, ReportHealth, Status};

use crate::breaker::Breaker;
use crate::state::BreakerState;
use crate::sync::Ordering;

/// The health component kind of every breaker.
pub const HEALTH_KIND: &str = "circuit_breaker";

impl Breaker {
    /// Registers the breaker in `registry`, critical for readiness if its
    /// configuration says so. The registry holds it weakly: the entry goes
    /// when the last reference to the breaker does, so register it before
    /// its first call: a call that ended earlier may have left a reference
    /// as its thread's spare (see the crate's Limitations). For a breaker
    /// behind a layer, register through
    /// [`CircuitBreakerLayer::with_health`](crate::CircuitBreakerLayer::with_health)
    /// instead, which ties the entry to the layer, its services and their
    /// handles.
    pub fn register_health(self: &Arc<Self>, registry: &HealthRegistry) {
        self.registered_directly.store(true, Ordering::Relaxed);
        registry.register(self.component(), self);
    }

    fn component(&self) -> Component {
        Component::new(self.config.name.to_string(), HEALTH_KIND).critical(self.config.critical)
    }
}

/// A layer's entry for its breaker in a health registry: held by the
/// layer, its services and their handles, so that the entry goes with the
/// last of them even while a thread's spare reference (see `lease.rs`)
/// keeps the breaker's memory.
pub(crate) struct Registered {
    breaker: Arc<Breaker>,
    /// The entry of an earlier registration of the same layer, in another
    /// registry: held (never read) so that it lasts as long as this one.
    _earlier: Option<Arc<Registered>>,
}

impl Registered {
    pub(crate) fn register(
        breaker: &Arc<Breaker>,
        registry: &HealthRegistry,
        earlier: Option<Arc<Registered>>,
    ) -> Arc<Self> {
        let entry = Arc::new(Registered {
            breaker: breaker.clone(),
            _earlier: earlier,
        });
        registry.register(breaker.component(), &entry);
        entry
    }
}

impl ReportHealth for Registered {
    fn report(&self) -> HealthReport {
        self.breaker.report()
    }
}

impl ReportHealth for Breaker {
    fn report(&self) -> HealthReport {
        let stats = self.stats();
        let status = match stats.state {
            BreakerState::Open | BreakerState::ForcedOpen => Status::Fail,
            BreakerState::HalfOpen => Status::Warn,
            _ => Status::Pass,
        };
        let report = HealthReport::new(status)
            .observe("state", stats.state.as_str())
            .observe("failure_rate", stats.failure_rate)
            .observe("slow_rate", stats.slow_rate)
            .observe("calls", stats.calls);
        match stats.retry_after {
            Some(left) => report.observe("retry_after_ms", left.as_millis() as u64),
            None => report,
        }
    }
}

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

/// The health component kind of every breaker.
pub const HEALTH_KIND: &str = "circuit_breaker";

impl Breaker {
    /// Registers the breaker in `registry`, critical for readiness if its
    /// configuration says so. The registry holds it weakly: the entry goes
    /// when the last service, layer or handle using the breaker does.
    pub fn register_health(self: &Arc<Self>, registry: &HealthRegistry) {
        let component = Component::new(self.config.name.to_string(), HEALTH_KIND)
            .critical(self.config.critical);
        registry.register(component, self);
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

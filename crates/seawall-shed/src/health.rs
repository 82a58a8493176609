//! What the shedder reports to the health registry, and the optional
//! readiness failure while it sheds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use seawall_core::health::{HealthReport, ReportHealth, Status};
use tokio::time::Instant;

use crate::shared::Shared;

/// Failing readiness while shedding: when the last refusal was.
pub(crate) struct FailReadiness {
    /// How long after a refusal the component still fails.
    pub(crate) hold: Duration,
    pub(crate) origin: Instant,
    /// Nanoseconds from `origin` to the last refusal, plus one; 0 before
    /// the first.
    pub(crate) last_shed: AtomicU64,
}

impl FailReadiness {
    pub(crate) fn shed_now(&self) {
        let since = Instant::now().saturating_duration_since(self.origin);
        let nanos = u64::try_from(since.as_nanos()).unwrap_or(u64::MAX - 1);
        self.last_shed.store(nanos + 1, Ordering::Relaxed);
    }

    pub(crate) fn failing(&self) -> bool {
        let last = self.last_shed.load(Ordering::Relaxed);
        if last == 0 {
            return false;
        }
        let since = Instant::now().saturating_duration_since(self.origin);
        let now = u64::try_from(since.as_nanos()).unwrap_or(u64::MAX);
        now.saturating_sub(last - 1) < u64::try_from(self.hold.as_nanos()).unwrap_or(u64::MAX)
    }
}

impl ReportHealth for Shared {
    fn report(&self) -> HealthReport {
        let limit = self.limiter.limit();
        let in_flight = self.limiter.in_flight();
        let queue_len = self.queue_len();
        let failing = self
            .fail_readiness
            .as_ref()
            .is_some_and(FailReadiness::failing);
        let status = if failing {
            Status::Fail
        } else if in_flight >= limit || queue_len > 0 {
            Status::Warn
        } else {
            Status::Pass
        };
        HealthReport::new(status)
            .observe("limit", limit)
            .observe("in_flight", in_flight)
            .observe("queue_len", queue_len)
            .observe("shed", self.shed.load(Ordering::Relaxed))
            .observe("shadow_shed", self.shadow_shed.load(Ordering::Relaxed))
            .observe("algorithm", self.limiter.algorithm())
            .observe("enforced", self.enforced.load(Ordering::Relaxed))
    }
}

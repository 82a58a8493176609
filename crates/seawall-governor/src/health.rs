//! What a rate limit reports to the health registry.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use seawall_core::health::{HealthReport, ReportHealth, Status};
use tokio::time::Instant;

use crate::limiter::Shared;

impl<K: Send + Sync + 'static> ReportHealth for Shared<K> {
    /// `warn` while a global quota has no headroom (every request is being
    /// refused or made to wait), `pass` otherwise; a per-key quota that is
    /// exhausted for some keys is the limit working, not a concern.
    fn report(&self) -> HealthReport {
        let now = self.nanos(Instant::now());
        let mut quotas = String::new();
        let mut refused = String::new();
        let mut least: Option<u32> = None;
        for limit in self.global.iter() {
            let headroom = limit.gcra.headroom(limit.tat.load(Relaxed), now);
            least = Some(least.map_or(headroom, |l| l.min(headroom)));
            let policy = limit.gcra.policy();
            separate(&mut quotas);
            // Writing to a String cannot fail.
            let _ = write!(
                quotas,
                "{} {}/{} per {:?}",
                policy.name(),
                headroom,
                policy.limit(),
                policy.window()
            );
            separate(&mut refused);
            let _ = write!(refused, "{}={}", policy.name(), limit.refusals.get());
        }
        if let Some(keyed) = &self.keyed {
            let policy = keyed.store.gcra().policy();
            separate(&mut quotas);
            let _ = write!(
                quotas,
                "{} {} per {:?} per key",
                policy.name(),
                policy.limit(),
                policy.window()
            );
            separate(&mut refused);
            let _ = write!(
                refused,
                "{}={}, key_unavailable={}",
                policy.name(),
                keyed.refusals.get(),
                keyed.unavailable.get()
            );
        }

        let status = match least {
            Some(0) => Status::Warn,
            _ => Status::Pass,
        };
        let total = self.refused();
        let mut report = HealthReport::new(status)
            .observe("quotas", quotas)
            .observe("refused", total)
            .observe("refused_by_quota", refused);
        if let Some(least) = least {
            report = report.observe("headroom", u64::from(least));
        }
        if let Some(keyed) = &self.keyed {
            report = report
                .observe("keys", keyed.store.len())
                .observe("capacity", keyed.store.capacity())
                .observe("evicted", keyed.store.evicted());
        }
        report
    }
}

fn separate(text: &mut String) {
    if !text.is_empty() {
        text.push_str(", ");
    }
}

//! The state every service built by one layer shares, and the permit that
//! hands a slot back when dropped.

use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, Gauge};
use seawall_core::health::{Component, HealthRegistry, HealthReport, ReportHealth, Status};
use seawall_core::names::target;
use seawall_core::rejection::BulkheadFull;
use tokio::sync::Notify;

use crate::lease::Lease;
use crate::limiter::{Grant, Limiter};

/// One bulkhead: its counters, its settings and its metric handles.
pub(crate) struct Shared {
    pub(crate) limiter: Limiter,
    pub(crate) name: Cow<'static, str>,
    pub(crate) retry_after: Duration,
    /// The bound on a wait for a permit; `None` refuses at once.
    pub(crate) wait: Option<Duration>,
    pub(crate) metrics: Metrics,
    pub(crate) waiters: Waiters,
}

/// Metric handles, registered once when the layer is built.
pub(crate) struct Metrics {
    pub(crate) in_flight: Gauge,
    pub(crate) rejected: Counter,
}

/// Tasks waiting for a permit, in waiting mode.
///
/// `count` lets a release skip the `Notify` (and its lock) when nobody
/// waits, which is always in reject mode and usually in waiting mode.
pub(crate) struct Waiters {
    pub(crate) count: AtomicUsize,
    pub(crate) notify: Arc<Notify>,
}

/// A held permit; dropping it gives the permit back.
///
/// It keeps the bulkhead alive, so it may outlive every service (a response
/// body still streaming after the connection's service is gone).
///
/// Two whole words, with the grant's niche for `None`, for speed: every
/// request moves it from the service into the response future. When the
/// grant was an enum of a `u32` tag and a `u32` index, `Option<Permit>` was
/// tagged by the grant and copied in 4-, 8- and 4-byte pieces, and each
/// whole-permit load that followed such a copy stalled on store forwarding:
/// the reject-mode bulkhead took 33-38 ns a call against tower's
/// `GlobalConcurrencyLimit` at 16-18 ns and a baseline of 1.4 ns. With the
/// grant packed into one word it takes 10-13 ns (`cargo bench -p
/// seawall-benches --bench bulkhead -- --warm-up-time 1 --measurement-time 3
/// 1-thread`). A test below keeps the layout.
pub(crate) struct Permit {
    lease: Lease,
    grant: Grant,
}

/// The bulkhead's entry in a health registry, which holds it weakly: the
/// layer, its services and its handles hold it strongly, so it leaves the
/// registry when they are all gone, whatever permits or spares (see
/// `lease.rs`) still keep the bulkhead's memory.
pub(crate) struct Entry {
    shared: Arc<Shared>,
}

impl Entry {
    pub(crate) fn register(
        shared: &Arc<Shared>,
        registry: &HealthRegistry,
        component: Component,
    ) -> Arc<Entry> {
        let entry = Arc::new(Entry {
            shared: shared.clone(),
        });
        registry.register(component, &entry);
        entry
    }
}

impl ReportHealth for Entry {
    fn report(&self) -> HealthReport {
        self.shared.report()
    }
}

impl Shared {
    /// Takes a permit for `partition`, or the pool when `None`.
    #[inline]
    pub(crate) fn try_acquire(self: &Arc<Self>, partition: Option<u32>) -> Option<Permit> {
        let grant = self.limiter.try_acquire(partition)?;
        self.metrics.in_flight.increment(1.0);
        Some(Permit {
            lease: Lease::new(self),
            grant,
        })
    }

    /// Builds the error for a refused request of `partition`, counting and
    /// logging the refusal on the way.
    #[cold]
    pub(crate) fn refuse(&self, partition: Option<u32>, waited: Option<Duration>) -> BulkheadFull {
        self.metrics.rejected.increment(1);
        let partition = partition.map(|i| &self.limiter.partition(i).name);
        tracing::trace!(
            target: target::BULKHEAD,
            name = %self.name,
            partition = partition.map(|p| &**p),
            max_in_flight = self.limiter.capacity(),
            waited = ?waited,
            "request refused"
        );

        let mut error =
            BulkheadFull::new(self.limiter.capacity()).with_retry_after(self.retry_after);
        if let Some(name) = partition {
            error = error.with_partition(name.clone());
        }
        if let Some(waited) = waited {
            error = error.with_waited(waited);
        }
        error
    }

    #[inline]
    fn release(&self, grant: Grant) {
        self.limiter.release(grant);
        self.metrics.in_flight.decrement(1.0);
        if self.wait.is_some() {
            self.wake_waiters();
        }
    }

    fn wake_waiters(&self) {
        // Pairs with the fence a waiter puts between counting itself and
        // trying again: either it sees this release, or this sees its count.
        fence(Ordering::SeqCst);
        if self.waiters.count.load(Ordering::Relaxed) > 0 {
            // Every waiter is woken, not one: a permit from a partition's
            // reserve suits only that partition's waiters, and waking one
            // that cannot use it would lose the wake-up.
            self.waiters.notify.notify_waiters();
        }
    }
}

impl ReportHealth for Shared {
    fn report(&self) -> HealthReport {
        let limiter = &self.limiter;
        let in_flight = limiter.in_flight();
        let status = if in_flight >= limiter.capacity() {
            Status::Warn
        } else {
            Status::Pass
        };
        let mut report = HealthReport::new(status)
            .observe("in_flight", in_flight)
            .observe("max_in_flight", limiter.capacity())
            .observe("waiting", self.waiters.count.load(Ordering::Relaxed));
        if limiter.is_partitioned() {
            report = report
                .observe("pool_in_use", limiter.pool_in_use())
                .observe("pool_size", limiter.pool_size())
                .observe("partitions", self.describe_partitions());
        }
        report
    }
}

impl Shared {
    /// One line per partition for the health document, such as
    /// `tenant-a 3/8 (guaranteed 2)`.
    fn describe_partitions(&self) -> String {
        let mut text = String::new();
        for (index, (spec, in_flight)) in self.limiter.partitions().enumerate() {
            if index > 0 {
                text.push_str(", ");
            }
            // Writing to a String cannot fail.
            let _ = write!(
                text,
                "{} {}/{} (guaranteed {})",
                spec.name, in_flight, spec.max_in_flight, spec.guaranteed
            );
        }
        text
    }
}

impl Drop for Permit {
    #[inline]
    fn drop(&mut self) {
        // The lease drops after this, back to the thread's spare.
        self.lease.release(self.grant);
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("bulkhead", &self.lease.name)
            .field("grant", &self.grant)
            .finish()
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulkhead")
            .field("name", &self.name)
            .field("in_flight", &self.limiter.in_flight())
            .field("max_in_flight", &self.limiter.capacity())
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    use super::*;

    #[test]
    fn a_permit_is_two_words_and_none_costs_nothing() {
        // The layout the hot path was tuned for; see `Permit`.
        assert_eq!(size_of::<Permit>(), 2 * size_of::<u64>());
        assert_eq!(size_of::<Option<Permit>>(), size_of::<Permit>());
    }
}

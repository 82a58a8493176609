//! The state every service built by one layer shares: the limiter, the
//! waiter list, the settings and the metric handles; and the two guards
//! that hand what they hold back when dropped, [`Slot`] and [`Ticket`].

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use metrics::{Counter, Gauge};
use seawall_core::names::target;
use seawall_core::rejection::Overloaded;
use tokio::time::Instant;

use crate::health::FailReadiness;
use crate::lease::Lease;
use crate::limit::Sample;
use crate::limiter::Limiter;
use crate::queue::{Grant, Queue, QueueOrder};
use crate::slot::{Slot, Ticket};

/// One shedder.
pub(crate) struct Shared {
    pub(crate) limiter: Limiter,
    pub(crate) name: Cow<'static, str>,
    pub(crate) retry_after: Duration,
    /// The queue's bounds in shedding mode; `None` sheds at once.
    pub(crate) queue: Option<QueueBounds>,
    pub(crate) enforced: AtomicBool,
    pub(crate) waiters: Waiters,
    pub(crate) metrics: Metrics,
    /// Refusals, for the health report and the handle.
    pub(crate) shed: AtomicU64,
    /// Decisions to refuse that shadow mode did not enforce.
    pub(crate) shadow_shed: AtomicU64,
    /// Whether, and how long, refusals fail the health component.
    pub(crate) fail_readiness: Option<FailReadiness>,
}

/// How long a queue may be and how long a request may wait in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueueBounds {
    pub(crate) capacity: usize,
    pub(crate) max_wait: Duration,
    pub(crate) order: QueueOrder,
}

/// The waiter list and its length, readable without the lock.
pub(crate) struct Waiters {
    pub(crate) queue: Mutex<Queue>,
    /// The line's length, written under the lock. Releases read it to skip
    /// the lock when nobody waits.
    pub(crate) len: AtomicUsize,
}

/// Metric handles, registered once when the layer is built.
pub(crate) struct Metrics {
    pub(crate) limit: Gauge,
    pub(crate) in_flight: Gauge,
    pub(crate) queue_len: Gauge,
    pub(crate) rejected_limit: Counter,
    pub(crate) rejected_queue_full: Counter,
    pub(crate) rejected_expired: Counter,
    pub(crate) shadow_rejected: Counter,
}

/// Why a request was refused; the `reason` label of
/// `seawall_shed_rejected_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// The limit was reached and there is no queue.
    Limit,
    /// The limit was reached and the queue was full.
    QueueFull,
    /// The request's deadline, or the queue's bound, passed before a slot
    /// came.
    Expired,
}

impl Reason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::Limit => "limit",
            Reason::QueueFull => "queue_full",
            Reason::Expired => "expired",
        }
    }
}

impl Shared {
    /// Admits a call on arrival: a slot under the limit; in shadow mode a
    /// slot over it when none is free. `None` when the call must queue or
    /// be refused.
    ///
    /// While others wait in line, an enforcing shedder sends newcomers to
    /// the line too rather than let them take a slot ahead of it.
    #[inline]
    pub(crate) fn admit(self: &Arc<Self>) -> Option<Slot> {
        let line = self.waiters.len.load(Ordering::Relaxed) > 0;
        if !line {
            if let Some(in_flight) = self.limiter.try_acquire() {
                return Some(self.slot(in_flight, false));
            }
        }
        self.admit_slow(line)
    }

    #[cold]
    fn admit_slow(self: &Arc<Self>, line: bool) -> Option<Slot> {
        if self.enforced.load(Ordering::Relaxed) {
            return None;
        }
        let grant = self.acquire_unenforced(line);
        Some(self.slot(grant.in_flight, grant.over_limit))
    }

    /// A slot in shadow mode: under the limit when one is free, over it
    /// otherwise.
    fn acquire_unenforced(&self, line: bool) -> Grant {
        let free = if line {
            None
        } else {
            self.limiter.try_acquire()
        };
        match free {
            Some(in_flight) => Grant {
                in_flight,
                over_limit: false,
            },
            None => Grant {
                in_flight: self.limiter.force_acquire(),
                over_limit: true,
            },
        }
    }

    fn slot(self: &Arc<Self>, in_flight: usize, over_limit: bool) -> Slot {
        self.metrics.in_flight.increment(1.0);
        Slot::new(Lease::new(self), in_flight, over_limit)
    }

    /// Joins the line, in shedding mode, unless the queue is full.
    pub(crate) fn enqueue(self: &Arc<Self>, deadline: Instant) -> Option<Ticket> {
        let capacity = self.queue.map_or(0, |bounds| bounds.capacity);
        let key = {
            let mut queue = self.lock();
            if queue.len() >= capacity {
                return None;
            }
            let key = queue.push(Some(deadline));
            self.publish_len(&queue);
            key
        };
        Some(self.ticket(key))
    }

    /// Joins the line, in back-pressure mode: one place per waiting
    /// service, so the line is as long as the services that wait.
    pub(crate) fn wait(self: &Arc<Self>) -> Ticket {
        let key = {
            let mut queue = self.lock();
            let key = queue.push(None);
            self.publish_len(&queue);
            key
        };
        self.ticket(key)
    }

    fn ticket(self: &Arc<Self>, key: usize) -> Ticket {
        // A slot freed while this waiter was joining is found here: either
        // the releaser saw the line's new length, or this sees its slot.
        self.dispatch();
        Ticket {
            shared: self.clone(),
            key: Some(key),
            since: Instant::now(),
        }
    }

    /// Hands free slots to waiters, one at a time, in the queue's order;
    /// waiters whose deadline has passed are told so instead.
    ///
    /// Each waker is woken after the lock is released.
    pub(crate) fn dispatch(&self) {
        let mut now = None;
        loop {
            let waker = {
                let mut queue = self.lock();
                let lifo = self.lifo(queue.len());
                let Some((key, deadline)) = queue.next(lifo) else {
                    return;
                };
                let now = *now.get_or_insert_with(Instant::now);
                let waker = if deadline.is_some_and(|deadline| deadline <= now) {
                    queue.expire(key, lifo)
                } else {
                    let Some(grant) = self.acquire_for_waiter() else {
                        return;
                    };
                    self.metrics.in_flight.increment(1.0);
                    queue.grant(key, lifo, grant)
                };
                self.publish_len(&queue);
                waker
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    fn acquire_for_waiter(&self) -> Option<Grant> {
        if let Some(in_flight) = self.limiter.try_acquire() {
            return Some(Grant {
                in_flight,
                over_limit: false,
            });
        }
        if self.enforced.load(Ordering::Relaxed) {
            return None;
        }
        Some(self.acquire_unenforced(true))
    }

    fn lifo(&self, len: usize) -> bool {
        let Some(bounds) = self.queue else {
            // Back pressure: producers are served in order.
            return false;
        };
        match bounds.order {
            QueueOrder::Fifo => false,
            QueueOrder::Lifo => true,
            QueueOrder::AdaptiveLifo => len.saturating_mul(2) >= bounds.capacity,
        }
    }

    pub(crate) fn publish_len(&self, queue: &Queue) {
        let len = queue.len();
        // Sequentially consistent: see `Limiter::try_acquire`.
        self.waiters.len.store(len, Ordering::SeqCst);
        self.metrics.queue_len.set(len as f64);
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Queue> {
        // Every change to the queue is complete before anything that could
        // panic, so a poisoned lock still guards a whole queue.
        self.waiters
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Builds the error for a refused request, counting and logging the
    /// refusal on the way.
    #[cold]
    pub(crate) fn refuse(&self, reason: Reason, waited: Option<Duration>) -> Overloaded {
        self.shed.fetch_add(1, Ordering::Relaxed);
        if let Some(fail) = &self.fail_readiness {
            fail.shed_now();
        }
        match reason {
            Reason::Limit => self.metrics.rejected_limit.increment(1),
            Reason::QueueFull => self.metrics.rejected_queue_full.increment(1),
            Reason::Expired => self.metrics.rejected_expired.increment(1),
        }
        let limit = self.limiter.limit();
        tracing::trace!(
            target: target::SHED,
            name = %self.name,
            reason = reason.as_str(),
            limit,
            in_flight = self.limiter.in_flight(),
            waited = ?waited,
            "request shed"
        );
        let error = Overloaded::new(limit).with_retry_after(self.retry_after);
        match waited {
            Some(waited) => error.with_waited(waited),
            None => error,
        }
    }

    /// Counts a refusal that shadow mode did not enforce.
    #[cold]
    pub(crate) fn shadow_refuse(&self) {
        self.shadow_shed.fetch_add(1, Ordering::Relaxed);
        self.metrics.shadow_rejected.increment(1);
        tracing::trace!(
            target: target::SHED,
            name = %self.name,
            limit = self.limiter.limit(),
            in_flight = self.limiter.in_flight(),
            "request would have been shed (shadow mode)"
        );
    }

    /// Switches between enforcing and shadow mode.
    pub(crate) fn set_enforced(&self, enforced: bool) {
        let was = self.enforced.swap(enforced, Ordering::SeqCst);
        if was == enforced {
            return;
        }
        tracing::debug!(target: target::SHED, name = %self.name, enforced, "mode changed");
        if !enforced {
            // Nobody waits in shadow mode: let the whole line through.
            self.dispatch();
        }
    }

    pub(crate) fn record(&self, sample: &Sample) {
        let recorded = self.limiter.record(sample);
        if recorded.limit == recorded.previous {
            return;
        }
        self.metrics.limit.set(recorded.limit as f64);
        if let Some(from) = recorded.material_since {
            tracing::debug!(
                target: target::SHED,
                name = %self.name,
                algorithm = self.limiter.algorithm(),
                limit = recorded.limit,
                previous = from,
                in_flight = self.limiter.in_flight(),
                "limit changed"
            );
        }
        if recorded.limit > recorded.previous {
            self.wake_waiters();
        }
    }

    pub(crate) fn wake_waiters(&self) {
        // Sequentially consistent: see `Limiter::try_acquire`.
        if self.waiters.len.load(Ordering::SeqCst) > 0 {
            self.dispatch();
        }
    }

    pub(crate) fn queue_len(&self) -> usize {
        self.waiters.len.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shed")
            .field("name", &self.name)
            .field("limiter", &self.limiter)
            .field("queue_len", &self.queue_len())
            .field("queue", &self.queue)
            .field("enforced", &self.enforced.load(Ordering::Relaxed))
            .field("retry_after", &self.retry_after)
            .finish()
    }
}

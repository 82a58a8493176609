//! The reference to its bulkhead that a permit holds, lent from a spare its
//! thread keeps when it can be.
//!
//! A permit may outlive every service (a response body still streaming), so
//! it must own a counted reference to the bulkhead. Cloning that reference
//! when a permit is taken and dropping it when the permit goes back are two
//! locked instructions, and on hosts where those are slow they cost as much
//! as the permit's own counting (`docs/benchmarks.md`). So a permit that
//! goes back leaves its reference in a one-slot spare of its thread, and
//! the next permit that thread takes from the same bulkhead takes the
//! reference from there: permits that follow each other on one thread share
//! one reference and count nothing.
//!
//! A spare keeps its bulkhead's memory alive after everything else that
//! used it is gone, until its thread gives back a permit of another
//! bulkhead or exits: at most one bulkhead per thread. It does not keep the
//! bulkhead in the health registry: the registered entry is held by the
//! layer, its services and its handles (see `Entry` in `shared.rs`),
//! not by permits or spares. A reference that is the bulkhead's last is
//! dropped, not kept.
//!
//! The slot and its rules are `seawall_core::spare`'s; the breaker lends
//! its references the same way, from a slot of its own.

use std::sync::Arc;

use crate::shared::Shared;

/// A permit's reference to its bulkhead. One word; the permit's grant
/// carries the niche that `Option<Permit>` uses.
pub(crate) struct Lease {
    /// `None` only while it is dropped.
    shared: Option<Arc<Shared>>,
}

impl Lease {
    /// A reference to `shared` for one permit: the thread's spare when it
    /// is one of `shared`, a new clone otherwise.
    #[inline]
    pub(crate) fn new(shared: &Arc<Shared>) -> Lease {
        let lent = spare::take(shared).unwrap_or_else(|| Arc::clone(shared));
        Lease { shared: Some(lent) }
    }

    #[inline]
    pub(crate) fn shared(&self) -> &Shared {
        match &self.shared {
            Some(shared) => shared,
            None => unreachable!("a lease is emptied only as it is dropped"),
        }
    }
}

impl Drop for Lease {
    #[inline]
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            spare::give_back(shared);
        }
    }
}

/// The thread's spare (see `seawall_core::spare`). Under loom there is
/// none: the models explore the counters, and loom's threads are not the
/// host's.
#[cfg(not(seawall_loom))]
mod spare {
    use std::cell::Cell;
    use std::sync::Arc;

    use crate::shared::Shared;

    thread_local! {
        static SPARE: Cell<Option<Arc<Shared>>> = const { Cell::new(None) };
    }

    #[inline]
    pub(super) fn take(shared: &Arc<Shared>) -> Option<Arc<Shared>> {
        seawall_core::spare::take(&SPARE, shared)
    }

    #[inline]
    pub(super) fn give_back(shared: Arc<Shared>) {
        seawall_core::spare::give_back(&SPARE, shared);
    }
}

#[cfg(seawall_loom)]
mod spare {
    use std::sync::Arc;

    use crate::shared::Shared;

    pub(super) fn take(_: &Arc<Shared>) -> Option<Arc<Shared>> {
        None
    }

    pub(super) fn give_back(shared: Arc<Shared>) {
        drop(shared);
    }
}

#[cfg(all(test, not(seawall_loom)))]
mod tests {
    use std::sync::Arc;

    use crate::BulkheadLayer;

    fn layer(name: &'static str) -> BulkheadLayer {
        BulkheadLayer::builder()
            .name(name)
            .max_in_flight(2)
            .build()
            .unwrap()
    }

    #[test]
    fn a_spare_keeps_at_most_one_bulkhead_per_thread() {
        let first = layer("first");
        let memory = Arc::downgrade(first.shared());
        drop(first.shared().try_acquire(None).unwrap());
        drop(first);
        assert!(memory.upgrade().is_some(), "kept as this thread's spare");

        // A permit of another bulkhead takes the spare's place.
        let second = layer("second");
        drop(second.shared().try_acquire(None).unwrap());
        assert!(memory.upgrade().is_none(), "at most one spare per thread");
    }

    #[test]
    fn the_last_reference_is_dropped_not_kept() {
        let only = layer("only");
        let memory = Arc::downgrade(only.shared());
        let permit = only.shared().try_acquire(None).unwrap();
        drop(only);
        // The permit's reference is the bulkhead's last.
        drop(permit);
        assert!(memory.upgrade().is_none());
    }

    #[test]
    fn a_permit_after_another_borrows_the_same_reference() {
        let layer = layer("busy");
        let shared = layer.shared();
        drop(shared.try_acquire(None).unwrap());
        // The layer's and the spare's.
        assert_eq!(Arc::strong_count(shared), 2);
        let permit = shared.try_acquire(None).unwrap();
        assert_eq!(Arc::strong_count(shared), 2, "lent, not cloned");
        drop(permit);
        assert_eq!(Arc::strong_count(shared), 2);
        assert_eq!(shared.limiter.in_flight(), 0);
    }
}

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
//! The lease, the slot and their rules are `seawall_core::spare`'s; the
//! breaker and the shedder lend their references the same way, each from a
//! slot of its own.

use std::cell::Cell;
use std::sync::Arc;

use seawall_core::spare::{self, Lend};

use crate::shared::Shared;

/// A permit's reference to its bulkhead. One word; the permit's grant
/// carries the niche that `Option<Permit>` uses.
pub(crate) type Lease = spare::Lease<Shared>;

std::thread_local! {
    static SPARE: Cell<Option<Arc<Shared>>> = const { Cell::new(None) };
}

impl Lend for Shared {
    /// Under loom there is no spare: the models explore the counters, and
    /// loom's threads are not the host's.
    #[inline]
    fn slot() -> Option<&'static spare::Slot<Self>> {
        (!cfg!(seawall_loom)).then_some(&SPARE)
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

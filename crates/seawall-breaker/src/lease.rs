//! The reference to its breaker that an admitted call holds, lent from a
//! spare its thread keeps when it can be.
//!
//! A response future may outlive the service that made it, so an admitted
//! call must own a counted reference to the breaker. Cloning it when the
//! call is admitted and dropping it when the call ends are two locked
//! instructions, and on hosts where those are slow they were most of the
//! closed path's cost (`docs/benchmarks.md`). So a call that ends leaves
//! its reference in a one-slot spare of its thread, and the next call that
//! thread admits through a service of the same breaker takes it from
//! there: calls that follow each other on one thread share one reference
//! and count nothing.
//!
//! A spare keeps its breaker's memory alive after everything else that
//! used the breaker is gone, until its thread ends a call through another
//! breaker or exits: at most one breaker per thread. It does not keep the
//! breaker in the health registry: a layer registers an entry that its
//! services and handles hold, and spares do not (see
//! [`CircuitBreakerLayer::with_health`](crate::CircuitBreakerLayer::with_health)).
//! A reference that is the breaker's last is dropped, not kept, and a
//! breaker registered by hand ([`Breaker::register_health`]), whose entry
//! lasts as long as its memory, is not kept as a spare once registered
//! (register it before its first call: a spare left by an earlier call
//! stays until its thread moves on).

use std::sync::Arc;

use crate::breaker::Breaker;
use crate::permit::Owner;

/// An admitted call's reference to its breaker. One word, so that the
/// guard holding it still moves as two registers (see `permit.rs`).
pub(crate) struct Lease {
    /// `None` only while it is dropped.
    breaker: Option<Arc<Breaker>>,
}

impl Lease {
    /// A reference to `breaker` for one call: the thread's spare when it
    /// is one of `breaker`, a new clone otherwise.
    #[inline]
    pub(crate) fn new(breaker: &Arc<Breaker>) -> Lease {
        let lent = spare::take(breaker).unwrap_or_else(|| Arc::clone(breaker));
        Lease {
            breaker: Some(lent),
        }
    }
}

impl Owner for Lease {
    #[inline]
    fn breaker(&self) -> &Breaker {
        match &self.breaker {
            Some(breaker) => breaker,
            None => unreachable!("a lease is emptied only as it is dropped"),
        }
    }
}

impl Drop for Lease {
    #[inline]
    fn drop(&mut self) {
        if let Some(breaker) = self.breaker.take() {
            if breaker.lends_spares() {
                spare::give_back(breaker);
            }
        }
    }
}

/// The thread's spare (see `seawall_core::spare`). Under loom there is
/// none: the models explore the breaker, and loom's threads are not the
/// host's.
#[cfg(not(seawall_loom))]
mod spare {
    use std::cell::Cell;
    use std::sync::Arc;

    use crate::breaker::Breaker;

    thread_local! {
        static SPARE: Cell<Option<Arc<Breaker>>> = const { Cell::new(None) };
    }

    #[inline]
    pub(super) fn take(breaker: &Arc<Breaker>) -> Option<Arc<Breaker>> {
        seawall_core::spare::take(&SPARE, breaker)
    }

    #[inline]
    pub(super) fn give_back(breaker: Arc<Breaker>) {
        seawall_core::spare::give_back(&SPARE, breaker);
    }
}

#[cfg(seawall_loom)]
mod spare {
    use std::sync::Arc;

    use crate::breaker::Breaker;

    pub(super) fn take(_: &Arc<Breaker>) -> Option<Arc<Breaker>> {
        None
    }

    pub(super) fn give_back(breaker: Arc<Breaker>) {
        drop(breaker);
    }
}

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

use std::cell::Cell;
use std::sync::Arc;

use seawall_core::spare::{self, Lend};

use crate::breaker::Breaker;
use crate::permit::Owner;

/// An admitted call's reference to its breaker. One word, so that the
/// guard holding it still moves as two registers (see `permit.rs`).
pub(crate) type Lease = spare::Lease<Breaker>;

std::thread_local! {
    static SPARE: Cell<Option<Arc<Breaker>>> = const { Cell::new(None) };
}

impl Lend for Breaker {
    /// Under loom there is no spare: the models explore the breaker, and
    /// loom's threads are not the host's.
    #[inline]
    fn slot() -> Option<&'static spare::Slot<Self>> {
        (!cfg!(seawall_loom)).then_some(&SPARE)
    }

    #[inline]
    fn keeps_spare(&self) -> bool {
        self.lends_spares()
    }
}

impl Owner for Lease {
    #[inline]
    fn breaker(&self) -> &Breaker {
        self
    }
}

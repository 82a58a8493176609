//! Liveness: whether the process itself is broken.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use seawall_core::names::target;

/// A cloneable flag the application sets when the process is broken beyond
/// repair (a deadlocked worker, a corrupted cache) and should be restarted.
///
/// It passes until [`set_broken`](Liveness::set_broken) is called. The
/// liveness [`HealthService`](crate::HealthService) reads only this flag,
/// never the registry's components: an overloaded or draining instance is
/// alive, and restarting it would only make things worse.
#[derive(Clone, Default)]
pub struct Liveness {
    broken: Arc<AtomicBool>,
}

impl Liveness {
    /// A flag that passes.
    pub fn new() -> Self {
        Liveness::default()
    }

    /// Marks the process broken (`true`) or healthy again (`false`).
    pub fn set_broken(&self, broken: bool) {
        if self.broken.swap(broken, Ordering::SeqCst) != broken {
            tracing::debug!(target: target::HANDSHAKE, broken, "liveness changed");
        }
    }

    /// Whether the process is alive.
    pub fn is_alive(&self) -> bool {
        !self.broken.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for Liveness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Liveness")
            .field("alive", &self.is_alive())
            .finish()
    }
}

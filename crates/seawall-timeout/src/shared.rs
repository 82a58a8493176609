//! What every service built by one layer shares: the configuration and the
//! metric handles registered when the layer was built.

use std::sync::Arc;
use std::time::Duration;

use metrics::Counter;
use seawall_core::names::{label, target};
use seawall_core::rejection::{Elapsed, Phase};

use crate::limit::Limit;

/// The counter of timeouts, labelled by `name` and `phase`.
pub(crate) const ELAPSED_TOTAL: &str = "seawall_timeout_elapsed_total";

pub(crate) struct Shared {
    pub(crate) timeout: Duration,
    pub(crate) ready_timeout: Option<Duration>,
    pub(crate) name: Arc<str>,
    elapsed_ready: Counter,
    elapsed_response: Counter,
}

impl Shared {
    /// Registers the metric handles, so that the request path only bumps
    /// them.
    pub(crate) fn new(timeout: Duration, ready_timeout: Option<Duration>, name: Arc<str>) -> Self {
        metrics::describe_counter!(
            ELAPSED_TOTAL,
            metrics::Unit::Count,
            "waits cut short by a seawall timeout"
        );
        let register = |phase: Phase| {
            metrics::counter!(
                ELAPSED_TOTAL,
                label::NAME => Arc::clone(&name),
                label::PHASE => phase_label(phase),
            )
        };
        Shared {
            timeout,
            ready_timeout,
            elapsed_ready: register(Phase::Ready),
            elapsed_response: register(Phase::Response),
            name,
        }
    }

    /// Counts and logs a timeout, and returns its error.
    // Kept out of line: it runs only when a limit has passed.
    #[cold]
    pub(crate) fn elapsed(&self, limit: Limit, phase: Phase) -> Elapsed {
        let elapsed = limit.elapsed(phase);
        match phase {
            Phase::Ready => self.elapsed_ready.increment(1),
            _ => self.elapsed_response.increment(1),
        }
        tracing::trace!(
            target: target::TIMEOUT,
            name = %self.name,
            limit = ?elapsed.limit(),
            phase = phase_label(phase),
            by_deadline = elapsed.is_deadline(),
            "timed out"
        );
        elapsed
    }
}

/// The `phase` label and log field for a phase.
fn phase_label(phase: Phase) -> &'static str {
    match phase {
        Phase::Ready => "ready",
        Phase::Response => "response",
        // This crate only produces the two phases above.
        _ => "other",
    }
}

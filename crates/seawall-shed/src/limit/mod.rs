//! Concurrency limit algorithms.
//!
//! An algorithm is a plain value that turns samples of finished calls into a
//! concurrency limit. It knows nothing of services, clocks or threads: the
//! shared limiter owns one behind a lock, feeds it samples and publishes the
//! limit it returns.

use std::time::Duration;

/// One finished call, as an algorithm sees it.
///
/// Cancelled calls (the caller dropped the response future) never become
/// samples: they say nothing about the service's latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// How long the call took, from admission to its response.
    pub latency: Duration,
    /// Calls in flight when this one was admitted, itself included.
    pub in_flight: usize,
    /// Whether the call counts as a loss: it timed out, or the service
    /// refused it as overloaded. Loss-based algorithms back off on it.
    pub dropped: bool,
}

/// Turns samples into a concurrency limit.
pub trait LimitAlgorithm: Send + 'static {
    /// The limit before any sample arrives.
    fn initial_limit(&self) -> usize;

    /// Takes one sample and returns the new limit.
    ///
    /// The result is always within the algorithm's own minimum and maximum.
    fn update(&mut self, sample: &Sample) -> usize;

    /// A short stable name for logs, metrics and health (`"gradient"`, ...).
    fn name(&self) -> &'static str;
}

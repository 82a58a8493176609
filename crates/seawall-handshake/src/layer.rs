//! The readiness gate's layer and its builder.

use std::fmt;
use std::time::Duration;

use tower_layer::Layer;

use crate::error::ConfigError;
use crate::{Drain, ReadinessGate};

/// Applies [`ReadinessGate`] to services: refuses new requests once a
/// drain's notice delay is over, and counts the admitted ones for
/// [`Drain::drain`].
///
/// Every service the layer builds shares the [`Drain`] it was given, so the
/// count holds across axum's per-connection `layer()` calls.
#[derive(Clone)]
pub struct ReadinessGateLayer {
    drain: Drain,
    retry_after: Duration,
}

/// Builds a [`ReadinessGateLayer`]; see [`ReadinessGateLayer::builder`].
#[derive(Debug, Clone)]
pub struct ReadinessGateBuilder {
    drain: Drain,
    retry_after: Duration,
}

const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

impl ReadinessGateLayer {
    /// A gate on `drain` that asks refused callers to retry after 5 s.
    pub fn new(drain: &Drain) -> Self {
        ReadinessGateLayer {
            drain: drain.clone(),
            retry_after: Duration::from_secs(5),
        }
    }

    /// A builder for a gate on `drain`.
    pub fn builder(drain: &Drain) -> ReadinessGateBuilder {
        let defaults = ReadinessGateLayer::new(drain);
        ReadinessGateBuilder {
            drain: defaults.drain,
            retry_after: defaults.retry_after,
        }
    }
}

impl<S> Layer<S> for ReadinessGateLayer {
    type Service = ReadinessGate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ReadinessGate::new(inner, self.drain.shared.clone(), self.retry_after)
    }
}

impl fmt::Debug for ReadinessGateLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadinessGateLayer")
            .field("drain", &self.drain)
            .field("retry_after", &self.retry_after)
            .finish()
    }
}

impl ReadinessGateBuilder {
    /// The wait a refused caller is asked for (the `Retry-After` of the
    /// 503): at least 1 s, at most one hour, 5 s by default.
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Validates the settings and builds the layer.
    pub fn build(self) -> Result<ReadinessGateLayer, ConfigError> {
        let in_range =
            Duration::from_secs(1) <= self.retry_after && self.retry_after <= MAX_RETRY_AFTER;
        if !in_range {
            return Err(ConfigError::new(
                "retry_after",
                format!(
                    "retry_after must be at least 1s and at most 1h, got {:?}",
                    self.retry_after
                ),
            ));
        }
        Ok(ReadinessGateLayer {
            drain: self.drain,
            retry_after: self.retry_after,
        })
    }
}

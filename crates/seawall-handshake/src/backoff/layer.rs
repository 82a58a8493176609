//! The back-off's layer and its builder.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use seawall_core::names::label;
use tower_layer::Layer;

use super::service::Backoff;
use super::table::Table;
use crate::error::ConfigError;

/// Applies [`Backoff`] to client services: remembers, per upstream, a `503`
/// or `429` with `Retry-After`, and fails calls to it fast until then.
///
/// The memory is made here and shared by every service the layer builds
/// and by their clones, so one upstream's request for time holds for all
/// of them.
#[derive(Clone)]
pub struct BackoffLayer {
    table: Arc<Table>,
}

/// Builds a [`BackoffLayer`]; see [`BackoffLayer::builder`].
#[derive(Debug, Clone)]
pub struct BackoffBuilder {
    name: Cow<'static, str>,
    capacity: usize,
}

const DEFAULT_CAPACITY: usize = 1024;
const MAX_CAPACITY: usize = 1_000_000;

impl BackoffLayer {
    /// A back-off named `default` that remembers up to 1,024 upstreams.
    pub fn new() -> Self {
        BackoffLayer::builder().build_unchecked()
    }

    /// A builder, to set the name and the capacity.
    pub fn builder() -> BackoffBuilder {
        BackoffBuilder {
            name: Cow::Borrowed("default"),
            capacity: DEFAULT_CAPACITY,
        }
    }

    /// The number of upstreams remembered now, including ones whose time
    /// has passed but that have not been dropped yet; never more than the
    /// capacity.
    pub fn remembered(&self) -> usize {
        self.table.len()
    }

    /// The most upstreams remembered at once.
    pub fn capacity(&self) -> usize {
        self.table.capacity()
    }
}

impl Default for BackoffLayer {
    fn default() -> Self {
        BackoffLayer::new()
    }
}

impl<S> Layer<S> for BackoffLayer {
    type Service = Backoff<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Backoff::new(inner, self.table.clone())
    }
}

impl fmt::Debug for BackoffLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackoffLayer")
            .field("capacity", &self.table.capacity())
            .finish()
    }
}

impl BackoffBuilder {
    /// The name the metrics carry (label `name`), `default` unless set.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// The most upstreams remembered at once: at least 1, at most
    /// 1,000,000, 1,024 by default. When it is full, the upstreams whose
    /// time has passed are dropped first, else the one whose time ends
    /// soonest.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Validates the settings and builds the layer, registering its metric
    /// (`seawall_handshake_backoff_refused_total`, labelled `name`).
    pub fn build(self) -> Result<BackoffLayer, ConfigError> {
        if !(1..=MAX_CAPACITY).contains(&self.capacity) {
            return Err(ConfigError::new(
                "capacity",
                format!(
                    "capacity must be at least 1 and at most {MAX_CAPACITY}, got {}",
                    self.capacity
                ),
            ));
        }
        Ok(self.build_unchecked())
    }

    fn build_unchecked(self) -> BackoffLayer {
        let refused = metrics::counter!(
            "seawall_handshake_backoff_refused_total",
            label::NAME => self.name
        );
        BackoffLayer {
            table: Arc::new(Table::new(self.capacity, refused)),
        }
    }
}

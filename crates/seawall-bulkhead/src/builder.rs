//! The validated configuration of a bulkhead.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use seawall_core::health::{Component, HealthRegistry};
use seawall_core::names::label;
use tokio::sync::Notify;

use crate::error::ConfigError;
use crate::key::NoPartitionKey;
use crate::layer::BulkheadLayer;
use crate::limiter::{Limiter, PartitionSpec, MAX_PARTITIONS};
use crate::shared::{Entry, Metrics, Shared, Waiters};

/// The `Retry-After` hint a refusal carries unless configured.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Builds a [`BulkheadLayer`]; made by [`BulkheadLayer::builder`].
///
/// Only [`max_in_flight`](Builder::max_in_flight) is required.
///
/// ```
/// use std::time::Duration;
/// use seawall_bulkhead::BulkheadLayer;
///
/// let layer = BulkheadLayer::builder()
///     .name("search")
///     .max_in_flight(64)
///     .retry_after(Duration::from_secs(2))
///     .build()?;
/// assert_eq!(layer.handle().max_in_flight(), 64);
/// # Ok::<(), seawall_bulkhead::ConfigError>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder<K = NoPartitionKey> {
    max_in_flight: Option<usize>,
    wait: Option<Duration>,
    retry_after: Duration,
    name: Cow<'static, str>,
    partitions: Vec<Partition>,
    key: K,
    has_key: bool,
    health: Option<HealthRegistry>,
}

struct Partition {
    name: Arc<str>,
    guaranteed: usize,
    max_in_flight: Option<usize>,
}

impl Builder {
    pub(crate) fn new() -> Self {
        Builder {
            max_in_flight: None,
            wait: None,
            retry_after: DEFAULT_RETRY_AFTER,
            name: Cow::Borrowed("bulkhead"),
            partitions: Vec::new(),
            key: NoPartitionKey,
            has_key: false,
            health: None,
        }
    }
}

impl<K> Builder<K> {
    /// The total number of requests admitted at once, across every service
    /// the layer builds. Required; at least 1.
    pub fn max_in_flight(mut self, max_in_flight: usize) -> Self {
        self.max_in_flight = Some(max_in_flight);
        self
    }

    /// Waits up to `wait` for a permit instead of refusing at once: the
    /// service applies back pressure. Must be greater than zero; cannot be
    /// combined with partitions.
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = Some(wait);
        self
    }

    /// The hint a refusal carries on when to try again, sent by the HTTP
    /// mapping as `Retry-After`. Defaults to [`DEFAULT_RETRY_AFTER`].
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Names the bulkhead in metrics, logs and health. Defaults to
    /// `"bulkhead"`.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// Adds a partition with `guaranteed` permits kept for it alone; it may
    /// borrow from the shared pool up to the whole capacity.
    pub fn partition(self, name: impl Into<Arc<str>>, guaranteed: usize) -> Self {
        self.push_partition(name.into(), guaranteed, None)
    }

    /// Adds a partition with `guaranteed` permits kept for it alone, holding
    /// at most `max_in_flight` at once, borrowed ones included.
    pub fn partition_with_max(
        self,
        name: impl Into<Arc<str>>,
        guaranteed: usize,
        max_in_flight: usize,
    ) -> Self {
        self.push_partition(name.into(), guaranteed, Some(max_in_flight))
    }

    /// Reads each request's partition with `key`. A request whose key is
    /// `None`, or names no partition, uses the shared pool alone.
    ///
    /// ```
    /// use seawall_bulkhead::BulkheadLayer;
    ///
    /// struct Job {
    ///     tenant: String,
    /// }
    ///
    /// let layer = BulkheadLayer::builder()
    ///     .max_in_flight(10)
    ///     .partition("gold", 6)
    ///     .partition_key(|job: &Job| Some(job.tenant.as_str()))
    ///     .build()?;
    /// assert_eq!(layer.handle().partition_in_flight("gold"), Some(0));
    /// # Ok::<(), seawall_bulkhead::ConfigError>(())
    /// ```
    pub fn partition_key<Req, F>(self, key: F) -> Builder<F>
    where
        F: Fn(&Req) -> Option<&str>,
    {
        Builder {
            max_in_flight: self.max_in_flight,
            wait: self.wait,
            retry_after: self.retry_after,
            name: self.name,
            partitions: self.partitions,
            key,
            has_key: true,
            health: self.health,
        }
    }

    /// Registers the bulkhead in `registry` as a component of kind
    /// `"bulkhead"`, reporting `in_flight`, `max_in_flight`, `waiting` and,
    /// when partitioned, `pool_in_use`, `pool_size` and `partitions`. Its
    /// status is `warn` while every permit is taken.
    pub fn health(mut self, registry: &HealthRegistry) -> Self {
        self.health = Some(registry.clone());
        self
    }

    /// Checks the configuration and builds the layer, registering its
    /// metrics (`seawall_bulkhead_in_flight`,
    /// `seawall_bulkhead_rejected_total`, labelled `name`) and its health
    /// component.
    pub fn build(self) -> Result<BulkheadLayer<K>, ConfigError> {
        let capacity = self.validate()?;
        let partitions = self
            .partitions
            .into_iter()
            .map(|p| PartitionSpec {
                name: p.name,
                guaranteed: p.guaranteed,
                max_in_flight: p.max_in_flight.unwrap_or(capacity),
            })
            .collect();

        let name = self.name;
        let metrics = Metrics {
            in_flight: metrics::gauge!("seawall_bulkhead_in_flight", label::NAME => name.clone()),
            rejected: metrics::counter!(
                "seawall_bulkhead_rejected_total",
                label::NAME => name.clone()
            ),
        };
        let shared = Arc::new(Shared {
            limiter: Limiter::new(capacity, partitions),
            name: name.clone(),
            retry_after: self.retry_after,
            wait: self.wait,
            metrics,
            waiters: Waiters {
                count: AtomicUsize::new(0),
                notify: Arc::new(Notify::new()),
            },
        });
        let entry = self
            .health
            .as_ref()
            .map(|registry| Entry::register(&shared, registry, Component::new(name, "bulkhead")));
        tracing::debug!(
            target: seawall_core::names::target::BULKHEAD,
            name = %shared.name,
            max_in_flight = capacity,
            wait = ?shared.wait,
            partitions = shared.limiter.partitions().count(),
            "bulkhead built"
        );
        Ok(BulkheadLayer::from_parts(shared, entry, self.key))
    }

    fn push_partition(
        mut self,
        name: Arc<str>,
        guaranteed: usize,
        max_in_flight: Option<usize>,
    ) -> Self {
        self.partitions.push(Partition {
            name,
            guaranteed,
            max_in_flight,
        });
        self
    }

    /// Returns the capacity when everything else checks out.
    fn validate(&self) -> Result<usize, ConfigError> {
        let capacity = match self.max_in_flight {
            None => {
                return Err(error(
                    "max_in_flight",
                    "max_in_flight must be set (1 or more)",
                ))
            }
            Some(0) => {
                return Err(error(
                    "max_in_flight",
                    "max_in_flight must be at least 1, got 0",
                ))
            }
            Some(n) => n,
        };
        if self.wait == Some(Duration::ZERO) {
            return Err(error(
                "wait",
                "wait must be greater than zero; leave it unset to refuse at once",
            ));
        }
        if self.partitions.is_empty() {
            return Ok(capacity);
        }

        // FIXME: waiting with partitions would need the wait to move into
        // the response future, which then owns the request and a clone of
        // the inner service; refused until a user needs it.
        if self.wait.is_some() {
            return Err(error(
                "wait",
                "wait cannot be combined with partitions: the partition is known \
                 only at call, after readiness",
            ));
        }
        if !self.has_key {
            return Err(error(
                "partition_key",
                "partitions need a partition_key to route requests to them",
            ));
        }
        if self.partitions.len() > MAX_PARTITIONS {
            return Err(error(
                "partition",
                format!("at most {MAX_PARTITIONS} partitions are allowed"),
            ));
        }
        for (index, p) in self.partitions.iter().enumerate() {
            if p.name.is_empty() {
                return Err(error("partition", "partition names must not be empty"));
            }
            if self.partitions[..index].iter().any(|q| q.name == p.name) {
                return Err(error(
                    "partition",
                    format!("partition {:?} is defined twice", p.name),
                ));
            }
            if let Some(max) = p.max_in_flight {
                let lowest = p.guaranteed.max(1);
                if max < lowest || max > capacity {
                    return Err(error(
                        "partition",
                        format!(
                            "partition {:?} max_in_flight must be in {lowest}..={capacity}, \
                             got {max}",
                            p.name
                        ),
                    ));
                }
            }
        }
        let guaranteed = self
            .partitions
            .iter()
            .fold(0usize, |sum, p| sum.saturating_add(p.guaranteed));
        if guaranteed > capacity {
            return Err(error(
                "partition",
                format!(
                    "guaranteed permits of all partitions must sum to at most \
                     max_in_flight ({capacity}), got {guaranteed}"
                ),
            ));
        }
        Ok(capacity)
    }
}

fn error(field: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::new(field, message.into())
}

impl<K> fmt::Debug for Builder<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let partitions: Vec<_> = self.partitions.iter().map(|p| &*p.name).collect();
        f.debug_struct("Builder")
            .field("name", &self.name)
            .field("max_in_flight", &self.max_in_flight)
            .field("wait", &self.wait)
            .field("retry_after", &self.retry_after)
            .field("partitions", &partitions)
            .field("partition_key", &self.has_key)
            .field("health", &self.health.is_some())
            .finish()
    }
}

//! The validated configuration of a shedder.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use seawall_core::health::{Component, HealthRegistry};
use seawall_core::names::{label, target};
use seawall_core::DefaultClassifier;

use crate::deadline::IgnoreDeadline;
use crate::error::ConfigError;
use crate::health::FailReadiness;
use crate::layer::{BackPressureLayer, ShedLayer};
use crate::lease::Anchor;
use crate::limit::{Gradient, LimitAlgorithm};
use crate::limiter::Limiter;
use crate::queue::{Queue, QueueOrder};
use crate::shared::{Metrics, QueueBounds, Shared, Waiters};

/// The `Retry-After` hint a refusal carries unless configured.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The longest queue [`Builder::queue`] accepts.
pub const MAX_QUEUE_CAPACITY: usize = 4096;

/// Builds a [`ShedLayer`] or a [`BackPressureLayer`]; made by
/// [`ShedLayer::builder`] or [`BackPressureLayer::builder`].
///
/// Every setting has a default: a [`Gradient`] limit with its own
/// defaults, no queue, enforcing, named `"shed"`.
///
/// ```
/// use std::time::Duration;
/// use seawall_shed::limit::Gradient;
/// use seawall_shed::{QueueOrder, ShedLayer};
///
/// let layer = ShedLayer::builder()
///     .name("api")
///     .algorithm(Gradient::builder().min_limit(4).max_limit(400).build()?)
///     .queue(64, Duration::from_millis(50))
///     .queue_order(QueueOrder::AdaptiveLifo)
///     .retry_after(Duration::from_secs(2))
///     .build()?;
/// assert_eq!(layer.handle().algorithm(), "gradient");
/// # Ok::<(), seawall_core::BoxError>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder<D = IgnoreDeadline, C = DefaultClassifier> {
    name: Cow<'static, str>,
    algorithm: Option<Box<dyn LimitAlgorithm>>,
    queue: Option<(usize, Duration)>,
    queue_order: Option<QueueOrder>,
    shadow: bool,
    retry_after: Duration,
    health: Option<HealthRegistry>,
    fail_readiness: Option<Duration>,
    deadline: D,
    has_deadline: bool,
    classifier: C,
}

/// The longest [`Builder::fail_readiness_while_shedding`] hold.
const MAX_FAIL_HOLD: Duration = Duration::from_secs(3600);

impl Builder {
    pub(crate) fn new() -> Self {
        Builder {
            name: Cow::Borrowed("shed"),
            algorithm: None,
            queue: None,
            queue_order: None,
            shadow: false,
            retry_after: DEFAULT_RETRY_AFTER,
            health: None,
            fail_readiness: None,
            deadline: IgnoreDeadline,
            has_deadline: false,
            classifier: DefaultClassifier,
        }
    }
}

impl<D, C> Builder<D, C> {
    /// Names the shedder in metrics, logs and health. Defaults to `"shed"`.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// The algorithm that learns the limit from finished calls: a
    /// [`Gradient`](crate::limit::Gradient) (the default, for servers), an
    /// [`Aimd`](crate::limit::Aimd) (loss-based, for clients), a
    /// [`Fixed`](crate::limit::Fixed) limit, or any
    /// [`LimitAlgorithm`].
    pub fn algorithm(mut self, algorithm: impl LimitAlgorithm) -> Self {
        self.algorithm = Some(Box::new(algorithm));
        self
    }

    /// Lets up to `capacity` requests over the limit wait, each at most
    /// `max_wait` and never past its own deadline (see
    /// [`deadline_from`](Builder::deadline_from)), instead of refusing them
    /// at once. `capacity` within `1..=`[`MAX_QUEUE_CAPACITY`]; `max_wait`
    /// greater than zero. Shedding mode only.
    pub fn queue(mut self, capacity: usize, max_wait: Duration) -> Self {
        self.queue = Some((capacity, max_wait));
        self
    }

    /// The order in which queued requests get freed slots. Defaults to
    /// [`QueueOrder::AdaptiveLifo`]. Needs a [`queue`](Builder::queue).
    pub fn queue_order(mut self, order: QueueOrder) -> Self {
        self.queue_order = Some(order);
        self
    }

    /// Shadow mode when `true`: the limit is learned and every decision is
    /// computed and reported (`seawall_shed_shadow_rejected_total`,
    /// [`ShedHandle::shadow_shed`](crate::ShedHandle::shadow_shed)), but no
    /// request is refused or made to wait. Defaults to `false`, enforcing;
    /// [`ShedHandle::set_enforced`](crate::ShedHandle::set_enforced) switches
    /// at run time.
    pub fn shadow(mut self, shadow: bool) -> Self {
        self.shadow = shadow;
        self
    }

    /// The hint a refusal carries on when to try again, sent by the HTTP
    /// mapping as `Retry-After`. Defaults to [`DEFAULT_RETRY_AFTER`].
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Registers the shedder in `registry` as a component of kind
    /// `"load_shed"`; see the [crate docs](crate#observability) for what it
    /// reports and when.
    pub fn health(mut self, registry: &HealthRegistry) -> Self {
        self.health = Some(registry.clone());
        self
    }

    /// Makes the health component [critical](Component::critical) and has
    /// it report `fail` from each refusal until `hold` has passed without
    /// one, so that an instance that is shedding leaves its load balancer's
    /// rotation until it has caught up. Needs [`health`](Builder::health);
    /// `hold` must be more than zero and at most an hour.
    ///
    /// Off by default, and think twice: the other instances get this one's
    /// load, so when they are as busy, rotating the busiest out spreads the
    /// overload rather than ending it. It suits a fleet that has headroom,
    /// or an autoscaler that adds instances on failing readiness.
    ///
    /// ```
    /// use std::time::Duration;
    /// use seawall_core::health::HealthRegistry;
    /// use seawall_shed::ShedLayer;
    ///
    /// let registry = HealthRegistry::new();
    /// let layer = ShedLayer::builder()
    ///     .health(&registry)
    ///     .fail_readiness_while_shedding(Duration::from_secs(5))
    ///     .build()?;
    /// assert!(registry.snapshot()[0].component().is_critical());
    /// # drop(layer);
    /// # Ok::<(), seawall_shed::ConfigError>(())
    /// ```
    pub fn fail_readiness_while_shedding(mut self, hold: Duration) -> Self {
        self.fail_readiness = Some(hold);
        self
    }

    /// Reads each request's overall [`Deadline`](seawall_core::Deadline)
    /// with `source`, so that a queued request is dropped once it passes.
    /// Needs a [`queue`](Builder::queue); see [`crate::deadline`].
    pub fn deadline_from<E>(self, source: E) -> Builder<E, C> {
        Builder {
            name: self.name,
            algorithm: self.algorithm,
            queue: self.queue,
            queue_order: self.queue_order,
            shadow: self.shadow,
            retry_after: self.retry_after,
            health: self.health,
            fail_readiness: self.fail_readiness,
            deadline: source,
            has_deadline: true,
            classifier: self.classifier,
        }
    }

    /// Judges finished calls with `classifier`, a
    /// [`Classify`](seawall_core::Classify) of the inner response and the
    /// boxed error, such as seawall-http's `HttpClassifier` or a closure.
    /// Defaults to [`DefaultClassifier`].
    ///
    /// A call classified as a timeout or as refused by the upstream is a
    /// loss (`Sample::dropped`); an ignored call is not recorded.
    pub fn classifier<K>(self, classifier: K) -> Builder<D, K> {
        Builder {
            name: self.name,
            algorithm: self.algorithm,
            queue: self.queue,
            queue_order: self.queue_order,
            shadow: self.shadow,
            retry_after: self.retry_after,
            health: self.health,
            fail_readiness: self.fail_readiness,
            deadline: self.deadline,
            has_deadline: self.has_deadline,
            classifier,
        }
    }

    /// Checks the configuration and builds a shedding layer, registering
    /// its metrics and its health component.
    pub fn build(mut self) -> Result<ShedLayer<D, C>, ConfigError> {
        let bounds = self.validate_queue()?;
        let shared = self.shared(bounds)?;
        Ok(ShedLayer::from_parts(
            shared,
            self.deadline,
            self.classifier,
        ))
    }

    /// Checks the configuration and builds a back-pressure layer,
    /// registering its metrics and its health component. A queue and a
    /// deadline apply to shedding only and are refused here.
    pub fn build_back_pressure(mut self) -> Result<BackPressureLayer<C>, ConfigError> {
        if self.queue.is_some() {
            return Err(ConfigError::new(
                "queue",
                "a queue applies to the shedding layer only; back pressure waits in poll_ready",
            ));
        }
        if self.queue_order.is_some() {
            return Err(ConfigError::new(
                "queue_order",
                "queue_order applies to the shedding layer's queue only",
            ));
        }
        if self.has_deadline {
            return Err(ConfigError::new(
                "deadline_from",
                "deadline_from applies to the shedding layer's queue only; \
                 bound a back-pressure wait with a timeout layer outside it",
            ));
        }
        let shared = self.shared(None)?;
        Ok(BackPressureLayer::from_parts(shared, self.classifier))
    }

    fn validate_queue(&self) -> Result<Option<QueueBounds>, ConfigError> {
        let Some((capacity, max_wait)) = self.queue else {
            if self.queue_order.is_some() {
                return Err(ConfigError::new("queue_order", "queue_order needs a queue"));
            }
            if self.has_deadline {
                return Err(ConfigError::new(
                    "deadline_from",
                    "deadline_from needs a queue: only queued requests are dropped at their deadline",
                ));
            }
            return Ok(None);
        };
        if capacity == 0 || capacity > MAX_QUEUE_CAPACITY {
            return Err(ConfigError::new(
                "queue",
                format!("queue capacity must be within 1..={MAX_QUEUE_CAPACITY}, got {capacity}"),
            ));
        }
        if max_wait.is_zero() {
            return Err(ConfigError::new(
                "queue",
                "queue max_wait must be greater than zero; leave the queue unset to shed at once",
            ));
        }
        Ok(Some(QueueBounds {
            capacity,
            max_wait,
            order: self.queue_order.unwrap_or_default(),
        }))
    }

    /// Makes the shedder, its metric handles and its health component.
    fn shared(&mut self, queue: Option<QueueBounds>) -> Result<Anchor, ConfigError> {
        let algorithm = match self.algorithm.take() {
            Some(algorithm) => algorithm,
            None => default_algorithm()?,
        };
        let initial = algorithm.initial_limit();
        if initial == 0 {
            return Err(ConfigError::new(
                "algorithm",
                format!(
                    "the {} algorithm's initial limit must be at least 1, got 0",
                    algorithm.name()
                ),
            ));
        }

        if let Some(hold) = self.fail_readiness {
            if self.health.is_none() {
                return Err(ConfigError::new(
                    "fail_readiness_while_shedding",
                    "fail_readiness_while_shedding needs health(registry) to report to",
                ));
            }
            if hold.is_zero() || hold > MAX_FAIL_HOLD {
                return Err(ConfigError::new(
                    "fail_readiness_while_shedding",
                    format!(
                        "fail_readiness_while_shedding must be more than 0s and at most \
                         {MAX_FAIL_HOLD:?}, got {hold:?}"
                    ),
                ));
            }
        }

        let name = self.name.clone();
        let rejected = |reason: &'static str| {
            metrics::counter!(
                "seawall_shed_rejected_total",
                label::NAME => name.clone(),
                "reason" => reason
            )
        };
        let metrics = Metrics {
            limit: metrics::gauge!("seawall_shed_limit", label::NAME => name.clone()),
            in_flight: metrics::gauge!("seawall_shed_in_flight", label::NAME => name.clone()),
            queue_len: metrics::gauge!("seawall_shed_queue_len", label::NAME => name.clone()),
            rejected_limit: rejected("limit"),
            rejected_queue_full: rejected("queue_full"),
            rejected_expired: rejected("expired"),
            shadow_rejected: metrics::counter!(
                "seawall_shed_shadow_rejected_total",
                label::NAME => name.clone()
            ),
        };
        metrics.limit.set(initial as f64);
        metrics.in_flight.set(0.0);
        metrics.queue_len.set(0.0);

        let shared = Arc::new(Shared {
            limiter: Limiter::new(algorithm),
            name: name.clone(),
            retry_after: self.retry_after,
            queue,
            enforced: AtomicBool::new(!self.shadow),
            waiters: Waiters {
                queue: Mutex::new(Queue::default()),
                len: AtomicUsize::new(0),
            },
            metrics,
            shed: AtomicU64::new(0),
            shadow_shed: AtomicU64::new(0),
            fail_readiness: self.fail_readiness.map(|hold| FailReadiness {
                hold,
                origin: Instant::now(),
                last_shed: AtomicU64::new(0),
            }),
        });
        let component = Component::new(name, "load_shed").critical(self.fail_readiness.is_some());
        let shared = Anchor::new(shared, self.health.as_ref().map(|r| (r, component)));
        tracing::debug!(
            target: target::SHED,
            name = %shared.name,
            algorithm = shared.limiter.algorithm(),
            limit = initial,
            queue = ?shared.queue,
            enforced = !self.shadow,
            "shed built"
        );
        Ok(shared)
    }
}

fn default_algorithm() -> Result<Box<dyn LimitAlgorithm>, ConfigError> {
    let gradient = Gradient::builder()
        .build()
        .map_err(|error| ConfigError::new("algorithm", error.to_string()))?;
    Ok(Box::new(gradient))
}

impl<D, C> fmt::Debug for Builder<D, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algorithm = self.algorithm.as_ref().map_or("gradient", |a| a.name());
        f.debug_struct("Builder")
            .field("name", &self.name)
            .field("algorithm", &algorithm)
            .field("queue", &self.queue)
            .field("queue_order", &self.queue_order)
            .field("shadow", &self.shadow)
            .field("retry_after", &self.retry_after)
            .field("health", &self.health.is_some())
            .field("fail_readiness_while_shedding", &self.fail_readiness)
            .field("deadline_from", &self.has_deadline)
            .finish()
    }
}

//! The layer that wraps services in a [`Timeout`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tower_layer::Layer;

use crate::builder::TimeoutBuilder;
use crate::deadline::IgnoreDeadline;
use crate::service::Timeout;
use crate::shared::Shared;

/// Applies a [`Timeout`] to services: a response timeout, an optional
/// ready timeout, and the request's overall deadline where `D` reads one.
///
/// The configuration and metric handles are made once, when the layer is
/// built, and every service [`layer`](Layer::layer) makes shares them, so
/// calling it per connection (as axum does) costs one `Arc` clone.
///
/// # Back pressure
///
/// Passed through: the service is `Pending` while the inner service is,
/// for at most the ready timeout when one is set. It never sheds.
///
/// # Cancel safety
///
/// Dropping a response future drops the inner future and its timer; it is
/// neither counted nor logged as a timeout.
///
/// # Errors
///
/// A timeout fails with [`Elapsed`](crate::error::Elapsed), boxed; the inner
/// service's errors pass through unchanged. See the
/// [crate documentation](crate#errors-and-responses) for turning `Elapsed`
/// into a 503 or 504.
///
/// ```
/// use std::time::Duration;
/// use seawall_timeout::TimeoutLayer;
///
/// let layer = TimeoutLayer::builder()
///     .timeout(Duration::from_secs(2))
///     .ready_timeout(Duration::from_millis(100))
///     .name("payments")
///     .build()?;
/// assert_eq!(layer.timeout(), Duration::from_secs(2));
/// # Ok::<(), seawall_timeout::error::ConfigError>(())
/// ```
pub struct TimeoutLayer<D = IgnoreDeadline> {
    shared: Arc<Shared>,
    deadline: D,
}

impl TimeoutLayer {
    /// A layer with a response timeout of `timeout`, no ready timeout, the
    /// name `"timeout"`, and no deadline source.
    ///
    /// # Panics
    ///
    /// Panics when `timeout` is zero; [`TimeoutLayer::builder`] reports
    /// that as an error instead.
    pub fn new(timeout: Duration) -> Self {
        match TimeoutLayer::builder().timeout(timeout).build() {
            Ok(layer) => layer,
            Err(error) => panic!("invalid timeout configuration: {error}"),
        }
    }

    /// A builder, to set a ready timeout, a name or a deadline source.
    pub fn builder() -> TimeoutBuilder {
        TimeoutBuilder::new()
    }
}

impl<D> TimeoutLayer<D> {
    pub(crate) fn from_parts(shared: Shared, deadline: D) -> Self {
        TimeoutLayer {
            shared: Arc::new(shared),
            deadline,
        }
    }

    /// The response timeout.
    pub fn timeout(&self) -> Duration {
        self.shared.timeout
    }

    /// The ready timeout, if one is set.
    pub fn ready_timeout(&self) -> Option<Duration> {
        self.shared.ready_timeout
    }

    /// The name used in metrics and logs.
    pub fn name(&self) -> &str {
        &self.shared.name
    }
}

impl<S, D: Clone> Layer<S> for TimeoutLayer<D> {
    type Service = Timeout<S, D>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout::new(inner, Arc::clone(&self.shared), self.deadline.clone())
    }
}

impl<D: Clone> Clone for TimeoutLayer<D> {
    fn clone(&self) -> Self {
        TimeoutLayer {
            shared: Arc::clone(&self.shared),
            deadline: self.deadline.clone(),
        }
    }
}

impl<D> fmt::Debug for TimeoutLayer<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeoutLayer")
            .field("name", &self.shared.name)
            .field("timeout", &self.shared.timeout)
            .field("ready_timeout", &self.shared.ready_timeout)
            .field("deadline", &std::any::type_name::<D>())
            .finish()
    }
}

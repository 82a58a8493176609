//! The validated way to configure a [`TimeoutLayer`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::deadline::IgnoreDeadline;
use crate::error::ConfigError;
use crate::layer::TimeoutLayer;
use crate::shared::Shared;

/// The name a layer gets when none is set.
const DEFAULT_NAME: &str = "timeout";

/// Configures a [`TimeoutLayer`]; made by [`TimeoutLayer::builder`].
///
/// [`timeout`](Self::timeout) is required. [`build`](Self::build) checks
/// every value and registers the layer's metrics.
///
/// ```
/// use std::time::Duration;
/// use seawall_timeout::{error::ConfigError, TimeoutLayer};
///
/// let error = TimeoutLayer::builder()
///     .timeout(Duration::from_secs(1))
///     .ready_timeout(Duration::ZERO)
///     .build()
///     .unwrap_err();
/// assert_eq!(error.field(), "ready_timeout");
/// assert_eq!(error.to_string(), "ready_timeout must be greater than zero, got 0s");
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct TimeoutBuilder<D = IgnoreDeadline> {
    timeout: Option<Duration>,
    ready_timeout: Option<Duration>,
    name: Arc<str>,
    deadline: D,
}

impl TimeoutBuilder {
    pub(crate) fn new() -> Self {
        TimeoutBuilder {
            timeout: None,
            ready_timeout: None,
            name: Arc::from(DEFAULT_NAME),
            deadline: IgnoreDeadline,
        }
    }
}

impl<D> TimeoutBuilder<D> {
    /// The longest the inner service may take to answer once called.
    /// Required; must be greater than zero.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The longest `poll_ready` may stay `Pending` waiting for the inner
    /// service. Unset by default, which leaves that wait unbounded; must be
    /// greater than zero.
    pub fn ready_timeout(mut self, ready_timeout: Duration) -> Self {
        self.ready_timeout = Some(ready_timeout);
        self
    }

    /// The `name` label of the layer's metrics and log events; `"timeout"`
    /// by default. Must not be empty.
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = name.into();
        self
    }

    /// Where to read each request's overall deadline from; see
    /// [`deadline`](crate::deadline). By default no deadline is read.
    pub fn deadline_from<D2>(self, source: D2) -> TimeoutBuilder<D2> {
        TimeoutBuilder {
            timeout: self.timeout,
            ready_timeout: self.ready_timeout,
            name: self.name,
            deadline: source,
        }
    }

    /// Checks the configuration and builds the layer, registering its
    /// metrics with the recorder installed now.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the field when `timeout` is missing, a
    /// duration is zero, or the name is empty.
    pub fn build(self) -> Result<TimeoutLayer<D>, ConfigError> {
        let timeout = match self.timeout {
            None => return Err(ConfigError::Missing { field: "timeout" }),
            Some(timeout) if timeout.is_zero() => {
                return Err(ConfigError::Zero { field: "timeout" })
            }
            Some(timeout) => timeout,
        };
        if self.ready_timeout.is_some_and(|d| d.is_zero()) {
            return Err(ConfigError::Zero {
                field: "ready_timeout",
            });
        }
        if self.name.is_empty() {
            return Err(ConfigError::EmptyName);
        }
        let shared = Shared::new(timeout, self.ready_timeout, self.name);
        Ok(TimeoutLayer::from_parts(shared, self.deadline))
    }
}

impl<D> fmt::Debug for TimeoutBuilder<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeoutBuilder")
            .field("timeout", &self.timeout)
            .field("ready_timeout", &self.ready_timeout)
            .field("name", &self.name)
            .field("deadline", &std::any::type_name::<D>())
            .finish()
    }
}

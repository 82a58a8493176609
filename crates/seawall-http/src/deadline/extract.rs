use std::fmt;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderName, Request};
use seawall_core::names::target;
use seawall_core::Deadline;
use tower_layer::Layer;
use tower_service::Service;

use super::parse::{self, Budget};
use super::DEFAULT_DEADLINE_HEADER;
use crate::error::ConfigError;

const DEFAULT_MAX_BUDGET: Duration = Duration::from_secs(60);
const LONGEST_MAX_BUDGET: Duration = Duration::from_secs(24 * 60 * 60);

/// Applies [`ExtractDeadline`]: the server side of deadline propagation.
///
/// See the [module docs](crate::deadline) for the header's format and what
/// happens to a malformed value.
#[derive(Debug, Clone)]
pub struct ExtractDeadlineLayer {
    settings: Settings,
}

/// Builds an [`ExtractDeadlineLayer`] with other settings than the defaults.
///
/// ```
/// use std::time::Duration;
/// use http::HeaderName;
/// use seawall_http::ExtractDeadlineLayer;
///
/// let layer = ExtractDeadlineLayer::builder()
///     .header(HeaderName::from_static("x-request-budget-ms"))
///     .max_budget(Duration::from_secs(10))
///     .build()?;
/// # let _ = layer;
/// # Ok::<(), seawall_http::error::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ExtractDeadlineBuilder {
    settings: Settings,
}

/// Reads the caller's remaining time budget from a request header and puts
/// it into the request's extensions as a [`Deadline`], for every seawall
/// timeout below to honour.
pub struct ExtractDeadline<S> {
    inner: S,
    settings: Settings,
}

#[derive(Debug, Clone)]
struct Settings {
    header: HeaderName,
    max_budget: Duration,
}

impl ExtractDeadlineLayer {
    /// A layer reading [`DEFAULT_DEADLINE_HEADER`], with budgets capped at
    /// 60 seconds.
    pub fn new() -> Self {
        ExtractDeadlineLayer::builder().into_layer()
    }

    /// A builder starting from the defaults of [`new`](Self::new).
    pub fn builder() -> ExtractDeadlineBuilder {
        ExtractDeadlineBuilder {
            settings: Settings {
                header: DEFAULT_DEADLINE_HEADER,
                max_budget: DEFAULT_MAX_BUDGET,
            },
        }
    }
}

impl Default for ExtractDeadlineLayer {
    fn default() -> Self {
        ExtractDeadlineLayer::new()
    }
}

impl<S> Layer<S> for ExtractDeadlineLayer {
    type Service = ExtractDeadline<S>;

    fn layer(&self, inner: S) -> ExtractDeadline<S> {
        ExtractDeadline {
            inner,
            settings: self.settings.clone(),
        }
    }
}

impl ExtractDeadlineBuilder {
    /// The header to read; default [`DEFAULT_DEADLINE_HEADER`].
    pub fn header(mut self, header: HeaderName) -> Self {
        self.settings.header = header;
        self
    }

    /// The largest budget a caller may ask for; a larger one is cut down to
    /// it, so a caller cannot keep work running longer than this server
    /// allows. Default 60 s; allowed: 1 ms to 24 h.
    pub fn max_budget(mut self, max: Duration) -> Self {
        self.settings.max_budget = max;
        self
    }

    /// Checks the settings and builds the layer.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `max_budget` when it is out of range.
    pub fn build(self) -> Result<ExtractDeadlineLayer, ConfigError> {
        let max = self.settings.max_budget;
        if max < Duration::from_millis(1) || max > LONGEST_MAX_BUDGET {
            return Err(ConfigError::new("max_budget", "between 1ms and 24h"));
        }
        Ok(self.into_layer())
    }

    fn into_layer(self) -> ExtractDeadlineLayer {
        ExtractDeadlineLayer {
            settings: self.settings,
        }
    }
}

impl<S> ExtractDeadline<S> {
    /// Wraps `inner` with the defaults of [`ExtractDeadlineLayer::new`].
    pub fn new(inner: S) -> Self {
        ExtractDeadlineLayer::new().layer(inner)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<Request<B>> for ExtractDeadline<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> S::Future {
        let header = &self.settings.header;
        let budget = match parse::read(request.headers(), header) {
            Budget::Absent => return self.inner.call(request),
            Budget::Malformed(reason) => {
                tracing::trace!(
                    target: target::HTTP,
                    header = header.as_str(),
                    reason,
                    "deadline header ignored"
                );
                return self.inner.call(request);
            }
            Budget::Given(budget) => budget,
        };

        let capped = budget > self.settings.max_budget;
        let budget = budget.min(self.settings.max_budget);
        let mut deadline = Deadline::after(budget);
        if let Some(earlier) = request.extensions().get::<Deadline>() {
            deadline = deadline.earliest(*earlier);
        }
        tracing::trace!(
            target: target::HTTP,
            budget_ms = budget.as_millis() as u64,
            capped,
            "deadline read from header"
        );
        request.extensions_mut().insert(deadline);
        self.inner.call(request)
    }
}

impl<S: Clone> Clone for ExtractDeadline<S> {
    fn clone(&self) -> Self {
        ExtractDeadline {
            inner: self.inner.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<S> fmt::Debug for ExtractDeadline<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtractDeadline")
            .field("inner", &std::any::type_name::<S>())
            .field("header", &self.settings.header)
            .field("max_budget", &self.settings.max_budget)
            .finish()
    }
}

use std::error::Error;
use std::time::Duration;

use http::{Response, StatusCode};
use seawall_core::rejection::Rejection;
use tower_layer::Layer;

use super::mapping::Mapping;
use super::{ErrorResponse, ResponseBody};
use crate::error::ConfigError;

const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
const LONGEST_MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Applies [`ErrorResponse`]: answers every error of the wrapped service,
/// seawall rejection or not, with an HTTP response.
///
/// Build it with [`new`](ErrorResponseLayer::new) for the defaults or with
/// [`builder`](ErrorResponseLayer::builder). The layer holds only settings,
/// so [`Layer::layer`] is cheap and every service it builds answers alike.
#[derive(Debug, Clone, Copy)]
pub struct ErrorResponseLayer {
    mapping: Mapping,
}

/// Builds an [`ErrorResponseLayer`] with other settings than the defaults.
///
/// ```
/// use std::time::Duration;
/// use http::StatusCode;
/// use seawall_http::ErrorResponseLayer;
///
/// let layer = ErrorResponseLayer::builder()
///     .timeout_status(StatusCode::SERVICE_UNAVAILABLE)
///     .max_retry_after(Duration::from_secs(60))
///     .build()?;
/// # let _ = layer;
///
/// let wrong = ErrorResponseLayer::builder()
///     .timeout_status(StatusCode::NOT_FOUND)
///     .build();
/// assert_eq!(wrong.unwrap_err().field(), "timeout_status");
/// # Ok::<(), seawall_http::error::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ErrorResponseBuilder {
    timeout_status: StatusCode,
    max_retry_after: Duration,
}

impl ErrorResponseLayer {
    /// A layer with the default settings: a timeout answers `504 Gateway
    /// Timeout`, and `Retry-After` is capped at 300 seconds.
    pub fn new() -> Self {
        ErrorResponseLayer {
            mapping: Mapping {
                timeout_status: StatusCode::GATEWAY_TIMEOUT,
                max_retry_after_secs: DEFAULT_MAX_RETRY_AFTER.as_secs(),
            },
        }
    }

    /// A builder starting from the default settings.
    pub fn builder() -> ErrorResponseBuilder {
        ErrorResponseBuilder {
            timeout_status: StatusCode::GATEWAY_TIMEOUT,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
        }
    }

    /// The response this layer gives for `error`: the mapped response for a
    /// seawall rejection found in it or its sources, else a generic `500`.
    ///
    /// For code that handles errors itself, such as an axum
    /// `HandleErrorLayer` kept for other reasons.
    pub fn error_response<B>(&self, error: &(dyn Error + 'static)) -> Response<ResponseBody<B>> {
        self.mapping.error_response(error)
    }

    /// The response this layer gives for `rejection`, including rejection
    /// types of your own that [`seawall_core::rejection::find`] does not
    /// know.
    pub fn rejection_response<B>(&self, rejection: &dyn Rejection) -> Response<ResponseBody<B>> {
        self.mapping.rejection_response(rejection)
    }
}

impl Default for ErrorResponseLayer {
    fn default() -> Self {
        ErrorResponseLayer::new()
    }
}

impl<S> Layer<S> for ErrorResponseLayer {
    type Service = ErrorResponse<S>;

    fn layer(&self, inner: S) -> ErrorResponse<S> {
        ErrorResponse::with_mapping(inner, self.mapping)
    }
}

impl ErrorResponseBuilder {
    /// The status a timeout ([`Elapsed`](crate::error::Elapsed)) answers
    /// with: `504 Gateway Timeout` by default, or any other server error,
    /// typically `503 Service Unavailable` for a server that does not want
    /// to look like a gateway. Allowed: `500..=599`.
    pub fn timeout_status(mut self, status: StatusCode) -> Self {
        self.timeout_status = status;
        self
    }

    /// The longest `Retry-After` sent, whatever the rejection asks for, so
    /// that no misconfigured layer sends clients away for hours. Rounded up
    /// to whole seconds. Default 300 s; allowed: 1 s to 24 h.
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Checks the settings and builds the layer.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first setting out of its range.
    pub fn build(self) -> Result<ErrorResponseLayer, ConfigError> {
        if !self.timeout_status.is_server_error() {
            return Err(ConfigError::new(
                "timeout_status",
                "a server error status (500..=599)",
            ));
        }
        let max = self.max_retry_after;
        if max < Duration::from_secs(1) || max > LONGEST_MAX_RETRY_AFTER {
            return Err(ConfigError::new("max_retry_after", "between 1s and 24h"));
        }

        let whole_secs = max.as_secs() + u64::from(max.subsec_nanos() > 0);
        Ok(ErrorResponseLayer {
            mapping: Mapping {
                timeout_status: self.timeout_status,
                max_retry_after_secs: whole_secs,
            },
        })
    }
}

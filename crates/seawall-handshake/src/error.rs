//! Errors: the refusal a request gets, and the one a bad configuration gets.

use std::error::Error;
use std::fmt;

pub use seawall_core::rejection::NotReady;

/// A configuration was invalid; returned by
/// [`DrainBuilder::build`](crate::DrainBuilder::build),
/// [`ReadinessGateBuilder::build`](crate::ReadinessGateBuilder::build),
/// [`BackoffBuilder::build`](crate::BackoffBuilder::build) and, with the
/// `serve` feature, `ServerBuilder::build`.
///
/// [`field`](ConfigError::field) names the setting at fault, and the
/// message says what range it allows.
///
/// ```
/// use std::time::Duration;
/// use seawall_handshake::Drain;
///
/// let error = Drain::builder().timeout(Duration::ZERO).build().unwrap_err();
/// assert_eq!(error.field(), "timeout");
/// assert_eq!(
///     error.to_string(),
///     "timeout must be more than 0s and at most 1h, got 0ns"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    field: &'static str,
    message: String,
}

impl ConfigError {
    pub(crate) fn new(field: &'static str, message: String) -> Self {
        ConfigError { field, message }
    }

    /// The setting at fault: `notice_delay`, `timeout`, `retry_after`,
    /// `capacity`, or the server's `header_read_timeout`, `idle_timeout`,
    /// `max_connections` or `shutdown_timeout`.
    pub fn field(&self) -> &'static str {
        self.field
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for ConfigError {}

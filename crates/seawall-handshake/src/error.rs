//! Errors: the refusal a request gets, and the one a bad configuration gets.

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
///
/// The fields it names (see [`ConfigError::field`]): `notice_delay`,
/// `timeout`, `retry_after`, `capacity`, or the server's
/// `header_read_timeout`, `idle_timeout`, `max_connections` or
/// `shutdown_timeout`.
pub use seawall_core::ConfigError;

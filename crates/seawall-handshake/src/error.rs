//! Errors: the refusal a request gets, and the one a bad configuration gets.

use std::time::Duration;

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

/// The longest duration any handshake setting takes.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(3600);

/// Checks that a duration setting is more than zero and at most an hour.
pub(crate) fn check_duration(field: &'static str, value: Duration) -> Result<(), ConfigError> {
    if value.is_zero() || value > MAX_DURATION {
        return Err(ConfigError::new(
            field,
            format!("{field} must be more than 0s and at most 1h, got {value:?}"),
        ));
    }
    Ok(())
}

//! Errors: the refusal a request gets, and the one a bad configuration gets.

pub use seawall_core::rejection::BulkheadFull;

/// The bulkhead's configuration was invalid; returned by
/// [`Builder::build`](crate::Builder::build).
///
/// [`field`](ConfigError::field) names the builder setting at fault, and the
/// message says what range it allows.
///
/// ```
/// use seawall_bulkhead::BulkheadLayer;
///
/// let error = BulkheadLayer::builder().max_in_flight(0).build().unwrap_err();
/// assert_eq!(error.field(), "max_in_flight");
/// assert_eq!(error.to_string(), "max_in_flight must be at least 1, got 0");
/// ```
///
/// The fields it names (see [`ConfigError::field`]): `max_in_flight`,
/// `wait`, `partition` or `partition_key`.
pub use seawall_core::ConfigError;

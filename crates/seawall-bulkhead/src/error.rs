//! Errors: the refusal a request gets, and the one a bad configuration gets.

use std::error::Error;
use std::fmt;

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

    /// The builder setting at fault: `max_in_flight`, `wait`, `partition`
    /// or `partition_key`.
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

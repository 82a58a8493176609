//! Errors: the configuration error of this crate's builders, and the core
//! error vocabulary re-exported for convenience.
//!
//! [`ErrorResponse`](crate::ErrorResponse) itself never fails; it turns every
//! error of the service it wraps into a response.

use std::error::Error;
use std::fmt;

pub use seawall_core::rejection::{BulkheadFull, Elapsed, Pattern, Phase, Rejection};
pub use seawall_core::BoxError;

/// A builder was given a value outside its allowed range.
///
/// The message names the field and the range, for example
/// `timeout_status must be a server error status (500..=599)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    field: &'static str,
    allowed: &'static str,
}

impl ConfigError {
    pub(crate) fn new(field: &'static str, allowed: &'static str) -> Self {
        ConfigError { field, allowed }
    }

    /// The name of the builder method whose value was refused.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The values the field accepts.
    pub fn allowed(&self) -> &'static str {
        self.allowed
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} must be {}", self.field, self.allowed)
    }
}

impl Error for ConfigError {}

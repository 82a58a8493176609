//! The error every builder returns for a setting out of range.

use std::error::Error;
use std::fmt;

/// A layer's configuration was invalid; returned by its builder's `build`.
///
/// [`field`](ConfigError::field) names the setting at fault, as the builder
/// method spells it, and the message says what range it allows. Invalid
/// configuration is always refused when the layer is built, never at
/// request time. Each layer crate re-exports this type as its own
/// `ConfigError` and lists, there, the fields its builders can name.
///
/// ```
/// use seawall_core::ConfigError;
///
/// let error = ConfigError::new("max_in_flight", "max_in_flight must be at least 1, got 0");
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
    /// An error for `field` with a message that names the field, the range
    /// it allows and the value it got. For layer crates; users read these.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        ConfigError {
            field,
            message: message.into(),
        }
    }

    /// The setting at fault, as the builder method spells it.
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

//! Errors: the refusal a request gets, and the one a bad configuration gets.

use std::error::Error;
use std::fmt;

pub use seawall_core::rejection::Overloaded;

use crate::limit::InvalidConfig;

/// The shedder's configuration was invalid; returned by
/// [`Builder::build`](crate::Builder::build) and
/// [`Builder::build_back_pressure`](crate::Builder::build_back_pressure).
///
/// [`field`](ConfigError::field) names the builder setting at fault, and the
/// message says what it allows.
///
/// ```
/// use std::time::Duration;
/// use seawall_shed::ShedLayer;
///
/// let error = ShedLayer::builder()
///     .queue(0, Duration::from_millis(50))
///     .build()
///     .unwrap_err();
/// assert_eq!(error.field(), "queue");
/// assert_eq!(error.to_string(), "queue capacity must be within 1..=4096, got 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    field: &'static str,
    message: String,
}

impl ConfigError {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        ConfigError {
            field,
            message: message.into(),
        }
    }

    /// The builder setting at fault: `algorithm`, `queue`, `queue_order` or
    /// `deadline_from`; or an algorithm's own setting, for an error converted
    /// from [`InvalidConfig`].
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

/// An algorithm's own configuration error, so that `?` works on
/// [`Gradient::builder().build()`](crate::limit::GradientBuilder::build)
/// and its kin inside a function that returns a [`ConfigError`]; the field
/// is the algorithm's setting (`tolerance`, `min_limit`, ...).
impl From<InvalidConfig> for ConfigError {
    fn from(error: InvalidConfig) -> Self {
        ConfigError::new(error.field(), error.to_string())
    }
}

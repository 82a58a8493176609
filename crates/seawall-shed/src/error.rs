//! Errors: the refusal a request gets, and the one a bad configuration gets.

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
///
/// The fields it names (see [`ConfigError::field`]): `algorithm`, `queue`,
/// `queue_order` or `deadline_from`; or an algorithm's own setting, for an
/// error converted from [`InvalidConfig`].
pub use seawall_core::ConfigError;

/// An algorithm's own configuration error, so that `?` works on
/// [`Gradient::builder().build()`](crate::limit::GradientBuilder::build)
/// and its kin inside a function that returns a [`ConfigError`]; the field
/// is the algorithm's setting (`tolerance`, `min_limit`, ...).
impl From<InvalidConfig> for ConfigError {
    fn from(error: InvalidConfig) -> Self {
        ConfigError::new(error.field(), error.to_string())
    }
}

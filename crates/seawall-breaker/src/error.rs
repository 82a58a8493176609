//! The errors of the circuit breaker.
//!
//! A call refused by an open breaker fails with [`CircuitOpen`], boxed into
//! [`BoxError`]; find it with `error.is::<CircuitOpen>()` or
//! `error.downcast_ref::<CircuitOpen>()`. Errors of the inner service pass
//! through unchanged. An invalid configuration is a [`ConfigError`].

use std::error::Error;
use std::fmt;

pub use seawall_core::rejection::CircuitOpen;
pub use seawall_core::BoxError;

/// A breaker setting was outside its allowed range.
///
/// It names the field as it is spelled in the builder and in the serde form,
/// says what is allowed, and shows the value that was given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    field: &'static str,
    allowed: &'static str,
    got: String,
}

impl ConfigError {
    pub(crate) fn new(field: &'static str, allowed: &'static str, got: impl fmt::Debug) -> Self {
        ConfigError {
            field,
            allowed,
            got: format!("{got:?}"),
        }
    }

    /// The setting that was invalid, such as `"failure_rate"`.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// What the setting allows, such as `"0..=1"`.
    pub fn allowed(&self) -> &'static str {
        self.allowed
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid circuit breaker setting `{}`: must be {}, got {}",
            self.field, self.allowed, self.got
        )
    }
}

impl Error for ConfigError {}

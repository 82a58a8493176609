//! The errors of the timeout layer.
//!
//! [`Elapsed`] and [`Phase`] are seawall-core's own types, re-exported here so
//! that `err.is::<Elapsed>()` works whichever path names them.

use std::error::Error;
use std::fmt;

pub use seawall_core::rejection::{Elapsed, Phase};

/// A timeout configuration that cannot work, found when the layer is built.
///
/// Each variant names the field at fault; [`ConfigError::field`] returns it
/// as the builder method's name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required setting was not given.
    #[non_exhaustive]
    Missing {
        /// The builder method that sets it.
        field: &'static str,
    },
    /// A duration was zero; every limit must be greater than zero.
    #[non_exhaustive]
    Zero {
        /// The builder method that set it.
        field: &'static str,
    },
    /// The name was empty; metrics and logs need something to tell layers
    /// apart by.
    #[non_exhaustive]
    EmptyName,
}

impl ConfigError {
    /// The builder method whose value was missing or out of range.
    pub fn field(&self) -> &'static str {
        match self {
            ConfigError::Missing { field } | ConfigError::Zero { field } => field,
            ConfigError::EmptyName => "name",
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Missing { field } => {
                write!(f, "{field} is required (a duration greater than zero)")
            }
            ConfigError::Zero { field } => {
                write!(f, "{field} must be greater than zero, got 0s")
            }
            ConfigError::EmptyName => f.write_str("name must not be empty"),
        }
    }
}

impl Error for ConfigError {}

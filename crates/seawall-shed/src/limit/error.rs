//! The error an algorithm's configuration gets when it is out of range.

use std::error::Error;
use std::fmt;

/// An algorithm's configuration was out of range; returned by the `build`
/// of each algorithm's builder and by [`Fixed::new`](super::Fixed::new).
///
/// [`field`](InvalidConfig::field) names the setting at fault, and the
/// message says what range it allows.
///
/// ```
/// use seawall_shed::limit::Fixed;
///
/// let error = Fixed::new(0).unwrap_err();
/// assert_eq!(error.field(), "limit");
/// assert_eq!(error.to_string(), "limit must be at least 1, got 0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidConfig {
    field: &'static str,
    message: String,
}

impl InvalidConfig {
    pub(crate) fn new(field: &'static str, message: String) -> Self {
        InvalidConfig { field, message }
    }

    /// The setting at fault, named as its builder method (`min_limit`,
    /// `backoff_ratio`, ...).
    pub fn field(&self) -> &'static str {
        self.field
    }
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for InvalidConfig {}

/// Checks `value >= 1`.
pub(super) fn at_least_one(field: &'static str, value: usize) -> Result<(), InvalidConfig> {
    if value == 0 {
        return Err(InvalidConfig::new(
            field,
            format!("{field} must be at least 1, got 0"),
        ));
    }
    Ok(())
}

/// Checks `min_limit <= initial_limit <= max_limit`, all at least 1.
pub(super) fn limits(min: usize, initial: usize, max: usize) -> Result<(), InvalidConfig> {
    at_least_one("min_limit", min)?;
    if max < min {
        return Err(InvalidConfig::new(
            "max_limit",
            format!("max_limit must be at least min_limit ({min}), got {max}"),
        ));
    }
    if initial < min || initial > max {
        return Err(InvalidConfig::new(
            "initial_limit",
            format!("initial_limit must be within {min}..={max}, got {initial}"),
        ));
    }
    Ok(())
}

/// Checks that a ratio lies in the open or closed range described by `low`,
/// `high` and `high_inclusive`; `low` is always exclusive.
pub(super) fn ratio(
    field: &'static str,
    value: f64,
    low: f64,
    high: f64,
    high_inclusive: bool,
) -> Result<(), InvalidConfig> {
    let above_high = if high_inclusive {
        value > high
    } else {
        value >= high
    };
    // A NaN fails both comparisons, so test for it by name.
    if value.is_nan() || value <= low || above_high {
        let close = if high_inclusive { ']' } else { ')' };
        return Err(InvalidConfig::new(
            field,
            format!("{field} must be within ({low}, {high}{close}, got {value}"),
        ));
    }
    Ok(())
}

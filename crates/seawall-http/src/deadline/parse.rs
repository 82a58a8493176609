//! Reading a budget in milliseconds from a header.

use std::time::Duration;

use http::{HeaderMap, HeaderName};

/// What the deadline header of a request says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget {
    /// No header.
    Absent,
    /// A well-formed budget.
    Given(Duration),
    /// A header that could not be read, and why (a stable word for logs).
    Malformed(&'static str),
}

pub(crate) fn read(headers: &HeaderMap, name: &HeaderName) -> Budget {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Budget::Absent;
    };
    // Two budgets cannot both be right, and picking one would let whoever
    // added the second override the first.
    if values.next().is_some() {
        return Budget::Malformed("repeated");
    }
    match millis(value.as_bytes()) {
        Ok(ms) => Budget::Given(Duration::from_millis(ms)),
        Err(reason) => Budget::Malformed(reason),
    }
}

/// Parses `1*DIGIT`, surrounded by optional whitespace, as a `u64`.
fn millis(raw: &[u8]) -> Result<u64, &'static str> {
    let digits = raw.trim_ascii();
    if digits.is_empty() {
        return Err("empty");
    }

    let mut ms: u64 = 0;
    for &byte in digits {
        if !byte.is_ascii_digit() {
            return Err("not_a_number");
        }
        ms = ms
            .checked_mul(10)
            .and_then(|ms| ms.checked_add(u64::from(byte - b'0')))
            .ok_or("overflow")?;
    }
    Ok(ms)
}

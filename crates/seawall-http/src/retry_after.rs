//! Reading an upstream's `Retry-After`.
//!
//! An upstream that answers 503 or 429 may say how long to stay away, in
//! delta-seconds (`Retry-After: 120`) or as an HTTP date. A client that
//! honours it (a circuit breaker held open, a client-side back-off) must not
//! trust it blindly: a buggy or hostile upstream can send a date in the
//! past, a number of seconds that overflows, or garbage. The rules here:
//!
//! - delta-seconds: ASCII digits only, surrounding whitespace allowed;
//! - an HTTP date (any of the three formats RFC 9110 accepts): the time
//!   left until it, measured against the caller's `now`;
//! - a date not in the future, an empty value, a negative or fractional
//!   number, or anything else: ignored (`None`);
//! - anything longer than [`MAX_RETRY_AFTER`]: capped to it, so no upstream
//!   can shut a client out for days.

use std::time::{Duration, SystemTime};

use http::HeaderValue;

/// The longest wait an upstream's `Retry-After` is honoured for: five
/// minutes.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Reads a `Retry-After` value, as seen at `now`; see the
/// [module docs](self) for what is accepted, ignored and capped.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use http::HeaderValue;
/// use seawall_http::retry_after::{parse_retry_after, MAX_RETRY_AFTER};
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let parse = |v: &'static str| parse_retry_after(&HeaderValue::from_static(v), now);
/// assert_eq!(parse("2"), Some(Duration::from_secs(2)));
/// assert_eq!(parse("99999999999999999999"), Some(MAX_RETRY_AFTER));
/// assert_eq!(parse("-1"), None);
/// assert_eq!(parse("soon"), None);
/// ```
pub fn parse_retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if text.is_empty() {
        return None;
    }
    let wait = if text.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is still a (very long) wait.
        text.parse::<u64>()
            .map(Duration::from_secs)
            .unwrap_or(Duration::MAX)
    } else {
        let at = httpdate::parse_http_date(text).ok()?;
        let wait = at.duration_since(now).ok()?;
        if wait.is_zero() {
            return None;
        }
        wait
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn parse(value: &str, now: SystemTime) -> Option<Duration> {
        parse_retry_after(&HeaderValue::from_str(value).expect("a header value"), now)
    }

    #[test]
    fn seconds_dates_and_garbage() {
        // 1994-11-06 08:49:37 UTC, the RFC's example date.
        let date = 784_111_777;
        let cases: &[(&str, u64, Option<Duration>)] = &[
            ("0", 0, Some(Duration::ZERO)),
            ("2", 0, Some(Duration::from_secs(2))),
            (" 7 ", 0, Some(Duration::from_secs(7))),
            ("300", 0, Some(MAX_RETRY_AFTER)),
            ("301", 0, Some(MAX_RETRY_AFTER)),
            ("18446744073709551616", 0, Some(MAX_RETRY_AFTER)),
            ("", 0, None),
            ("-5", 0, None),
            ("1.5", 0, None),
            ("+3", 0, None),
            ("soon", 0, None),
            (
                "Sun, 06 Nov 1994 08:49:37 GMT",
                date - 60,
                Some(Duration::from_secs(60)),
            ),
            (
                "Sunday, 06-Nov-94 08:49:37 GMT",
                date - 10,
                Some(Duration::from_secs(10)),
            ),
            (
                "Sun Nov  6 08:49:37 1994",
                date - 1,
                Some(Duration::from_secs(1)),
            ),
            ("Sun, 06 Nov 1994 08:49:37 GMT", date, None),
            ("Sun, 06 Nov 1994 08:49:37 GMT", date + 3600, None),
            (
                "Sun, 06 Nov 1994 08:49:37 GMT",
                date - 86_400,
                Some(MAX_RETRY_AFTER),
            ),
            ("Sun, 31 Feb 1994 08:49:37 GMT", 0, None),
        ];
        for &(value, now, expected) in cases {
            assert_eq!(parse(value, at(now)), expected, "Retry-After: {value:?}");
        }
    }

    #[test]
    fn non_ascii_is_ignored() {
        let value = HeaderValue::from_bytes(b"\xff12").expect("opaque bytes are allowed");
        assert_eq!(parse_retry_after(&value, at(0)), None);
    }
}

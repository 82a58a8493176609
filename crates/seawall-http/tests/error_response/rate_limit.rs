//! The `RateLimit-Policy` and `RateLimit` fields on a governor's 429.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Empty;
use proptest::prelude::*;
use seawall_core::rejection::{Pattern, QuotaPolicy, RateLimited, Rejection};
use seawall_http::response::{RATE_LIMIT, RATE_LIMIT_POLICY};
use seawall_http::{ErrorResponseLayer, ResponseBody};

use crate::{retry_after, Refusal, Wrapped};

type Mapped = Response<ResponseBody<Empty<Bytes>>>;

fn limited(name: &str, limit: u64, window: Duration, after: Duration) -> RateLimited {
    RateLimited::new(after).with_policy(QuotaPolicy::new(name, limit, window))
}

fn answer(layer: &ErrorResponseLayer, error: &(dyn Error + 'static)) -> Mapped {
    layer.error_response(error)
}

fn field<'a>(response: &'a Mapped, name: &http::HeaderName) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

/// The `t` parameter of a `RateLimit` value written by seawall.
fn reset_of(value: &str) -> u64 {
    value.rsplit_once(";t=").unwrap().1.parse().unwrap()
}

/// Checks `text` is exactly one RFC 8941 sf-string and returns its
/// unescaped content.
fn sf_string(text: &str) -> String {
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or_else(|| panic!("not quoted: {text:?}"));
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => out.push(e),
                other => panic!("bad escape {other:?} in {text:?}"),
            },
            '"' => panic!("unescaped quote in {text:?}"),
            ' '..='~' => out.push(c),
            _ => panic!("not printable ASCII: {c:?} in {text:?}"),
        }
    }
    out
}

/// A rejection of its own type whose source is a `RateLimited`, as a
/// layer that wraps the governor's error might return.
#[derive(Debug)]
struct Chained {
    pattern: Pattern,
    source: RateLimited,
}

impl fmt::Display for Chained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("refused")
    }
}

impl Error for Chained {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

impl Rejection for Chained {
    fn pattern(&self) -> Pattern {
        self.pattern
    }

    fn retry_after(&self) -> Option<Duration> {
        self.source.retry_after()
    }
}

#[test]
fn a_named_quota_gets_both_fields() {
    let refused = limited(
        "per-client",
        100,
        Duration::from_secs(60),
        Duration::from_millis(1500),
    );
    let response = answer(&ErrorResponseLayer::new(), &refused);

    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&response), Some("2"));
    assert_eq!(
        field(&response, &RATE_LIMIT_POLICY),
        Some(r#""per-client";q=100;w=60"#)
    );
    assert_eq!(
        field(&response, &RATE_LIMIT),
        Some(r#""per-client";r=0;t=2"#)
    );
    assert_eq!(RATE_LIMIT_POLICY.as_str(), "ratelimit-policy");
    assert_eq!(RATE_LIMIT.as_str(), "ratelimit");
}

#[test]
fn the_reset_is_the_retry_after_rounded_up_never_zero() {
    let layer = ErrorResponseLayer::new();
    let table = [
        (Duration::ZERO, 1),
        (Duration::from_nanos(1), 1),
        (Duration::from_millis(999), 1),
        (Duration::from_secs(1), 1),
        (Duration::from_millis(1001), 2),
        (Duration::from_millis(59_001), 60),
        (Duration::from_secs(300), 300),
        // Capped like Retry-After, and still equal to it.
        (Duration::from_secs(301), 300),
        (Duration::MAX, 300),
    ];
    for (after, expected) in table {
        let refused = limited("q", 10, Duration::from_secs(1), after);
        let response = answer(&layer, &refused);
        let sent = field(&response, &RATE_LIMIT).unwrap();
        assert_eq!(reset_of(sent), expected, "{after:?}");
        assert_eq!(retry_after(&response), Some(&*expected.to_string()));
    }

    let capped = ErrorResponseLayer::builder()
        .max_retry_after(Duration::from_secs(60))
        .build()
        .unwrap();
    let refused = limited("q", 10, Duration::from_secs(3600), Duration::from_secs(900));
    let response = answer(&capped, &refused);
    assert_eq!(retry_after(&response), Some("60"));
    assert_eq!(field(&response, &RATE_LIMIT), Some(r#""q";r=0;t=60"#));
}

#[test]
fn the_window_is_whole_seconds_rounded_up_at_least_one() {
    let layer = ErrorResponseLayer::new();
    let table: [(Duration, u64, &str); 7] = [
        (Duration::ZERO, 5, r#""w";q=5;w=1"#),
        (Duration::from_millis(500), 5, r#""w";q=5;w=1"#),
        (Duration::from_secs(1), 5, r#""w";q=5;w=1"#),
        (Duration::from_millis(1001), 5, r#""w";q=5;w=2"#),
        (Duration::from_secs(86_400), 0, r#""w";q=0;w=86400"#),
        // Past the largest structured-field Integer, both are clamped.
        (
            Duration::MAX,
            u64::MAX,
            r#""w";q=999999999999999;w=999999999999999"#,
        ),
        (
            Duration::from_secs(1_000_000_000_000_000),
            1_000_000_000_000_000,
            r#""w";q=999999999999999;w=999999999999999"#,
        ),
    ];
    for (window, limit, expected) in table {
        let refused = limited("w", limit, window, Duration::from_secs(1));
        let response = answer(&layer, &refused);
        assert_eq!(
            field(&response, &RATE_LIMIT_POLICY),
            Some(expected),
            "{window:?}"
        );
    }
}

#[test]
fn the_name_is_always_a_valid_sf_string() {
    let layer = ErrorResponseLayer::new();
    let table = [
        ("plain", r#""plain""#),
        ("with space", r#""with space""#),
        (r#"say "hi""#, r#""say \"hi\"""#),
        (r"back\slash", r#""back\\slash""#),
        (r#"\""#, r#""\\\"""#),
        ("naïve", r#""nave""#),
        ("tab\there", r#""tabhere""#),
        ("line\r\nbreak", r#""linebreak""#),
        ("del\u{7f}", r#""del""#),
        ("", r#""default""#),
        ("日本", r#""default""#),
        ("\u{0}\u{1b}", r#""default""#),
        (
            "~!#$%&'()*+,-./:;<=>?@[]^_`{|}",
            r#""~!#$%&'()*+,-./:;<=>?@[]^_`{|}""#,
        ),
    ];
    for (name, expected) in table {
        let refused = limited(name, 1, Duration::from_secs(1), Duration::from_secs(1));
        let response = answer(&layer, &refused);
        let policy = field(&response, &RATE_LIMIT_POLICY).unwrap();
        let limit = field(&response, &RATE_LIMIT).unwrap();
        assert_eq!(policy, format!("{expected};q=1;w=1"), "{name:?}");
        assert_eq!(limit, format!("{expected};r=0;t=1"), "{name:?}");
        sf_string(expected);
    }
}

#[test]
fn without_a_policy_only_retry_after_is_sent() {
    let refused = RateLimited::new(Duration::from_millis(2500));
    let response = answer(&ErrorResponseLayer::new(), &refused);
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&response), Some("3"));
    assert!(!response.headers().contains_key(RATE_LIMIT_POLICY));
    assert!(!response.headers().contains_key(RATE_LIMIT));

    // A governor rejection that is not a `RateLimited` has no quota either.
    let other: Mapped = ErrorResponseLayer::new().rejection_response(&Refusal {
        pattern: Pattern::Governor,
        retry_after: Some(Duration::from_secs(4)),
    });
    assert_eq!(retry_after(&other), Some("4"));
    assert!(!other.headers().contains_key(RATE_LIMIT));
}

#[test]
fn the_quota_is_found_behind_wrappers_and_inside_other_rejections() {
    let layer = ErrorResponseLayer::new();
    let inner = || limited("deep", 7, Duration::from_secs(10), Duration::from_secs(3));

    let wrapped = Wrapped(Box::new(Wrapped(inner().into())));
    let response = answer(&layer, &wrapped);
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(field(&response, &RATE_LIMIT), Some(r#""deep";r=0;t=3"#));

    let chained: Mapped = layer.rejection_response(&Chained {
        pattern: Pattern::Governor,
        source: inner(),
    });
    assert_eq!(
        field(&chained, &RATE_LIMIT_POLICY),
        Some(r#""deep";q=7;w=10"#)
    );

    // The pattern that refused decides: a breaker's 503 carries no quota
    // even if a `RateLimited` hides in its sources.
    let breaker: Mapped = layer.rejection_response(&Chained {
        pattern: Pattern::CircuitBreaker,
        source: inner(),
    });
    assert_eq!(breaker.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(!breaker.headers().contains_key(RATE_LIMIT));
    assert!(!breaker.headers().contains_key(RATE_LIMIT_POLICY));
}

proptest! {
    #[test]
    fn reset_equals_retry_after_and_both_are_positive(
        after_nanos in 0u64..2_000_000_000_000,
        window_nanos in 0u64..200_000_000_000_000,
        cap_secs in 1u64..=86_400,
        name in ".{0,24}",
    ) {
        let layer = ErrorResponseLayer::builder()
            .max_retry_after(Duration::from_secs(cap_secs))
            .build()
            .unwrap();
        let window = Duration::from_nanos(window_nanos);
        let refused = limited(&name, 3, window, Duration::from_nanos(after_nanos));
        let response = answer(&layer, &refused);

        let sent: u64 = retry_after(&response).unwrap().parse().unwrap();
        let limit = field(&response, &RATE_LIMIT).unwrap();
        prop_assert_eq!(reset_of(limit), sent);
        prop_assert_eq!(sent, after_nanos.div_ceil(1_000_000_000).clamp(1, cap_secs));

        let policy = field(&response, &RATE_LIMIT_POLICY).unwrap();
        let (quoted, params) = policy.split_once(";q=").unwrap();
        let unquoted = sf_string(quoted);
        prop_assert!(!unquoted.is_empty());
        let w: u64 = params.rsplit_once(";w=").unwrap().1.parse().unwrap();
        prop_assert!(w >= 1);
        prop_assert!(Duration::from_secs(w) >= window);
        prop_assert!(Duration::from_secs(w - 1) < window || w == 1);
        // Both fields name the same policy.
        let same_name = format!("{quoted};r=0;t=");
        prop_assert!(limit.starts_with(&same_name));
    }
}

use std::time::Duration;

use http::{Response, StatusCode};
use http_body_util::Empty;
use proptest::prelude::*;
use seawall_core::rejection::{BulkheadFull, Elapsed, Overloaded, Pattern, Phase};
use seawall_http::{ErrorResponseLayer, ResponseBody};

use crate::{body_text, retry_after, Refusal, Wrapped};

type Mapped = Response<ResponseBody<Empty<bytes::Bytes>>>;

fn refuse(layer: &ErrorResponseLayer, pattern: Pattern, after: Option<Duration>) -> Mapped {
    layer.rejection_response(&Refusal {
        pattern,
        retry_after: after,
    })
}

#[tokio::test]
async fn each_pattern_answers_with_its_status() {
    let layer = ErrorResponseLayer::new();
    let table = [
        (Pattern::Timeout, 504, None),
        (Pattern::Bulkhead, 503, Some("1")),
        (Pattern::LoadShed, 503, Some("1")),
        (Pattern::CircuitBreaker, 503, None),
        (Pattern::Handshake, 503, None),
        (Pattern::Retry, 503, None),
        (Pattern::Governor, 429, None),
    ];
    for (pattern, status, default_retry_after) in table {
        let response = refuse(&layer, pattern, None);
        assert_eq!(response.status(), status, "{pattern}");
        assert_eq!(retry_after(&response), default_retry_after, "{pattern}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert!(response.body().is_fixed());

        let given = refuse(&layer, pattern, Some(Duration::from_secs(7)));
        assert_eq!(given.status(), status, "{pattern}");
        assert_eq!(retry_after(&given), Some("7"), "{pattern}");
    }
}

#[tokio::test]
async fn the_body_is_fixed_problem_json() {
    let layer = ErrorResponseLayer::new();
    let response = refuse(&layer, Pattern::Bulkhead, None);
    assert_eq!(
        body_text(response).await,
        r#"{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"the service is at capacity"}"#
    );

    let response = refuse(&layer, Pattern::Governor, None);
    assert_eq!(
        body_text(response).await,
        r#"{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"the request rate is too high"}"#
    );

    // The detail is fixed per pattern: nothing of the rejection's own text.
    let elapsed = Elapsed::new(Duration::from_millis(1234), Phase::Ready);
    let response: Mapped = layer.error_response(&elapsed);
    let text = body_text(response).await;
    assert!(text.contains(r#""status":504"#), "{text}");
    assert!(
        !text.contains("1.234") && !text.contains("readiness"),
        "{text}"
    );
}

#[test]
fn retry_after_is_whole_seconds_rounded_up_within_bounds() {
    let layer = ErrorResponseLayer::new();
    let table = [
        (Duration::ZERO, "1"),
        (Duration::from_nanos(1), "1"),
        (Duration::from_millis(999), "1"),
        (Duration::from_secs(1), "1"),
        (Duration::from_millis(1001), "2"),
        (Duration::from_millis(2500), "3"),
        (Duration::from_secs(300), "300"),
        (Duration::from_millis(300_001), "300"),
        (Duration::from_secs(10 * 3600), "300"),
        (Duration::MAX, "300"),
    ];
    for (after, expected) in table {
        let response = refuse(&layer, Pattern::CircuitBreaker, Some(after));
        assert_eq!(retry_after(&response), Some(expected), "{after:?}");
    }

    let capped = ErrorResponseLayer::builder()
        .max_retry_after(Duration::from_millis(59_500))
        .build()
        .unwrap();
    let response = refuse(&capped, Pattern::Governor, Some(Duration::from_secs(3600)));
    assert_eq!(retry_after(&response), Some("60"));
}

#[test]
fn the_timeout_status_is_configurable() {
    let elapsed = Elapsed::new(Duration::from_secs(1), Phase::Response);

    let default: Mapped = ErrorResponseLayer::new().error_response(&elapsed);
    assert_eq!(default.status(), StatusCode::GATEWAY_TIMEOUT);

    let layer = ErrorResponseLayer::builder()
        .timeout_status(StatusCode::SERVICE_UNAVAILABLE)
        .build()
        .unwrap();
    let configured: Mapped = layer.error_response(&elapsed);
    assert_eq!(configured.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after(&configured), None);

    // Only timeouts move; a bulkhead still answers 503 with a hint.
    let full: Mapped = layer.error_response(&BulkheadFull::new(1));
    assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after(&full), Some("1"));
}

#[tokio::test]
async fn a_shed_request_is_a_503_with_its_retry_after() {
    let layer = ErrorResponseLayer::new();
    let shed: Mapped =
        layer.error_response(&Overloaded::new(12).with_retry_after(Duration::from_millis(2500)));
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after(&shed), Some("3"));
    assert_eq!(
        body_text(shed).await,
        r#"{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"the service is overloaded"}"#
    );

    let without_hint: Mapped = layer.error_response(&Overloaded::new(12));
    assert_eq!(retry_after(&without_hint), Some("1"));
}

#[test]
fn the_builder_refuses_values_out_of_range() {
    for status in [200, 404, 429] {
        let error = ErrorResponseLayer::builder()
            .timeout_status(StatusCode::from_u16(status).unwrap())
            .build()
            .unwrap_err();
        assert_eq!(error.field(), "timeout_status");
        assert_eq!(
            error.to_string(),
            "timeout_status must be a server error status (500..=599)"
        );
    }
    for max in [
        Duration::ZERO,
        Duration::from_millis(999),
        Duration::from_secs(86_401),
    ] {
        let error = ErrorResponseLayer::builder()
            .max_retry_after(max)
            .build()
            .unwrap_err();
        assert_eq!(error.field(), "max_retry_after", "{max:?}");
        assert_eq!(
            error.to_string(),
            "max_retry_after must be between 1s and 24h"
        );
    }
    assert!(ErrorResponseLayer::builder()
        .timeout_status(StatusCode::from_u16(599).unwrap())
        .max_retry_after(Duration::from_secs(86_400))
        .build()
        .is_ok());
}

#[tokio::test]
async fn a_custom_timeout_status_has_a_matching_title() {
    let layer = ErrorResponseLayer::builder()
        .timeout_status(StatusCode::from_u16(599).unwrap())
        .build()
        .unwrap();
    let response = refuse(&layer, Pattern::Timeout, None);
    assert_eq!(response.status(), 599);
    let text = body_text(response).await;
    assert!(
        text.contains(r#""title":"Server Error","status":599"#),
        "{text}"
    );
}

#[test]
fn a_rejection_is_found_behind_wrappers() {
    let layer = ErrorResponseLayer::new();
    let hidden = Wrapped(Box::new(Wrapped(
        BulkheadFull::new(2)
            .with_retry_after(Duration::from_millis(4200))
            .into(),
    )));
    let response: Mapped = layer.error_response(&hidden);
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after(&response), Some("5"));

    let plain: Mapped = layer.error_response(&Wrapped("disk full".into()));
    assert_eq!(plain.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(retry_after(&plain), None);
}

proptest! {
    #[test]
    fn retry_after_matches_the_formula(nanos in 0u64..1_000_000_000_000, cap_secs in 1u64..=86_400) {
        let after = Duration::from_nanos(nanos);
        let layer = ErrorResponseLayer::builder()
            .max_retry_after(Duration::from_secs(cap_secs))
            .build()
            .unwrap();
        let response = refuse(&layer, Pattern::Retry, Some(after));
        let sent: u64 = retry_after(&response).unwrap().parse().unwrap();

        let ceil = nanos.div_ceil(1_000_000_000);
        prop_assert_eq!(sent, ceil.clamp(1, cap_secs));
        // Never earlier than asked, unless the cap cut it.
        prop_assert!(Duration::from_secs(sent) >= after || sent == cap_secs);
    }
}

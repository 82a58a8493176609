//! The events of the error response layer, the deadline header and the
//! client-IP walk.
//!
//! They have a test binary of their own: tracing caches each event site's
//! interest globally, and a site first reached by a test without a
//! subscriber, while another installs one, can be cached as never
//! enabled. Here every test installs its subscriber before it reaches a
//! site, and no two tests share one.

use std::convert::Infallible;
use std::error::Error;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Empty;
use seawall_core::rejection::{BulkheadFull, QuotaPolicy, RateLimited};
use seawall_core::{BoxError, Deadline};
use seawall_http::key::{ClientIp, PeerAddr};
use seawall_http::{ErrorResponseLayer, ExtractDeadlineLayer, DEFAULT_DEADLINE_HEADER};
use seawall_test_support::capture::{Capture, Captured};
use tower::{service_fn, Layer, ServiceBuilder, ServiceExt};

/// The first event under seawall-http's target, which must be at trace.
fn http_trace(capture: &Capture) -> Captured {
    let event = capture
        .events()
        .into_iter()
        .find(|e| e.target == "seawall::http")
        .expect("a seawall::http event");
    assert_eq!(event.level, tracing::Level::TRACE);
    event
}

#[tokio::test]
async fn a_refusal_by_a_named_quota_is_answered_and_traced() {
    let capture = Capture::default();
    let _guard = capture.install();

    let refusing = service_fn(|_: Request<()>| async {
        let policy = QuotaPolicy::new("login", 5, Duration::from_secs(60));
        let refused = RateLimited::new(Duration::from_millis(12_300)).with_policy(policy);
        Err::<Response<Empty<Bytes>>, BoxError>(refused.into())
    });
    let service = ServiceBuilder::new()
        .layer(ErrorResponseLayer::new())
        .service(refusing);

    let Ok(response) = service.oneshot(Request::new(())).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "13");
    assert_eq!(
        response.headers()["ratelimit-policy"],
        r#""login";q=5;w=60"#
    );
    assert_eq!(response.headers()["ratelimit"], r#""login";r=0;t=13"#);

    let event = http_trace(&capture);
    assert_eq!(event.field("pattern"), Some("governor"));
    assert_eq!(event.field("retry_after"), Some("13"));
    assert_eq!(event.field("policy"), Some("login"));
}

#[test]
fn the_client_ip_walk_is_traced_with_its_reason() {
    let capture = Capture::default();
    let _guard = capture.install();

    let extractor = ClientIp::new("10.0.0.0/8".parse().unwrap());
    let cases = [
        ("203.0.113.50", "203.0.113.9", None),
        (
            "10.0.0.1",
            "203.0.113.9, 10.0.0.2",
            Some(("untrusted_entry", "2")),
        ),
        ("10.0.0.1", "10.0.0.3", Some(("all_trusted", "1"))),
        ("10.0.0.1", "unknown", Some(("opaque_entry", "1"))),
    ];
    for (peer, value, expected) in cases {
        let mut request = Request::builder()
            .header("x-forwarded-for", value)
            .body(())
            .unwrap();
        let addr = SocketAddr::new(peer.parse().unwrap(), 4000);
        request.extensions_mut().insert(PeerAddr(addr));

        let before = capture.events().len();
        extractor.client_ip(&request);
        let events = capture.events();
        let event = events[before..]
            .iter()
            .find(|e| e.target == "seawall::http")
            .expect("a seawall::http event");
        assert_eq!(event.level, tracing::Level::TRACE);
        assert_eq!(event.field("peer"), Some(peer));
        match expected {
            None => assert_eq!(event.field("reason"), None),
            Some((reason, hops)) => {
                assert_eq!(event.field("reason"), Some(reason), "{value}");
                assert_eq!(event.field("hops"), Some(hops), "{value}");
            }
        }
    }
}

/// Answers every request with `error`, behind the error response layer.
async fn answer_error(error: BoxError) -> Response<seawall_http::ResponseBody<Empty<Bytes>>> {
    let mut error = Some(error);
    let failing = service_fn(move |_: Request<()>| {
        let error = error.take().expect("one request");
        async move { Err::<Response<Empty<Bytes>>, BoxError>(error) }
    });
    let Ok(response) = ErrorResponseLayer::new()
        .layer(failing)
        .oneshot(Request::new(()))
        .await;
    response
}

#[tokio::test]
async fn a_rejection_is_traced_with_its_answer() {
    let capture = Capture::default();
    let _guard = capture.install();

    let refused = BulkheadFull::new(3).with_retry_after(Duration::from_millis(1500));
    let response = answer_error(refused.into()).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);

    let event = http_trace(&capture);
    assert_eq!(event.field("status"), Some("503"));
    assert_eq!(event.field("pattern"), Some("bulkhead"));
    assert_eq!(event.field("retry_after"), Some("2"));
}

/// An error that hides its cause behind `source()`.
#[derive(Debug)]
struct Hidden;

impl fmt::Display for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("handler failed")
    }
}

impl Error for Hidden {}

#[tokio::test]
async fn a_swallowed_error_is_logged_at_warn() {
    let capture = Capture::default();
    let _guard = capture.install();

    let response = answer_error(Box::new(Hidden)).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let events = capture.events();
    let warned = events
        .iter()
        .find(|e| e.level == tracing::Level::WARN)
        .expect("a warn event");
    assert_eq!(warned.target, "seawall::http");
    assert_eq!(warned.field("error"), Some("handler failed"));
}

#[tokio::test(start_paused = true)]
async fn a_malformed_deadline_is_traced_with_its_reason() {
    let capture = Capture::default();
    let _guard = capture.install();
    let layer = ExtractDeadlineLayer::new();
    let seen = |values: &[&[u8]]| {
        let mut request = Request::new(());
        for value in values {
            let value = HeaderValue::from_bytes(value).unwrap();
            request
                .headers_mut()
                .append(DEFAULT_DEADLINE_HEADER.clone(), value);
        }
        let inner = service_fn(|request: Request<()>| async move {
            Ok::<_, Infallible>(request.extensions().get::<Deadline>().is_some())
        });
        layer.layer(inner).oneshot(request)
    };

    for (value, reason) in [
        (&b"soon"[..], "not_a_number"),
        (b"", "empty"),
        (b"99999999999999999999", "overflow"),
    ] {
        let Ok(inserted) = seen(&[value]).await;
        assert!(!inserted, "{value:?} is ignored");
        let events = capture.events();
        let last = events.last().expect("an event");
        assert_eq!(last.target, "seawall::http");
        assert_eq!(last.level, tracing::Level::TRACE);
        assert_eq!(last.field("reason"), Some(reason));
    }

    let Ok(inserted) = seen(&[b"1", b"2"]).await;
    assert!(!inserted);
    assert_eq!(
        capture.events().last().unwrap().field("reason"),
        Some("repeated")
    );
}

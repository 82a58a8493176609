//! The events of the rate-limit fields and of the client-IP walk.
//!
//! They have a test binary of their own: tracing caches each event site's
//! interest globally, and a site first reached by a test without a
//! subscriber, while another installs one, can be cached as never
//! enabled. Here every test installs its subscriber before it reaches a
//! site, and no two tests share one.

#[path = "support/capture.rs"]
mod capture;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Empty;
use seawall_core::rejection::{QuotaPolicy, RateLimited};
use seawall_core::BoxError;
use seawall_http::key::{ClientIp, PeerAddr};
use seawall_http::ErrorResponseLayer;
use tower::{service_fn, ServiceBuilder, ServiceExt};

use capture::Capture;

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

    let events = capture.events();
    let event = events
        .iter()
        .find(|e| e.target == "seawall::http")
        .expect("a seawall::http event");
    assert_eq!(event.level, tracing::Level::TRACE);
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

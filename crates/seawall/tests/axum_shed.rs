//! A shedder with a limit of two in front of an axum router, over real TCP
//! with a connection per request and through `oneshot`: axum builds a
//! service per connection, yet at most two handlers run at once, and
//! everyone else is shed with a 503 and `Retry-After` straight away.
//!
//! The limit is fixed so that the test does not depend on what a learned
//! limit would be; the handlers block on a gate that opens only after the
//! eight refusals have arrived, so while the gate is shut both slots are
//! held and every other request must be shed (see `support`).

mod support;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::{routing::get, Router};
use http_body_util::BodyExt;
use seawall::http::ErrorResponseLayer;
use seawall::shed::limit::Fixed;
use seawall::shed::{ShedHandle, ShedLayer};
use support::{Gated, REQUESTS};
use tower::{ServiceBuilder, ServiceExt};

const LIMIT: usize = 2;

fn gated() -> (Gated, ShedHandle) {
    let shed = ShedLayer::builder()
        .name("handlers")
        .algorithm(Fixed::new(LIMIT).expect("a valid limit"))
        .retry_after(Duration::from_secs(2))
        .build()
        .expect("a valid shedder");
    let handle = shed.handle();
    let gated = Gated::new(|handler| {
        handler.layer(
            ServiceBuilder::new()
                .layer(ErrorResponseLayer::new())
                .layer(shed),
        )
    });
    (gated, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tcp_ten_connections_share_one_limit_of_two() {
    let (gated, shed) = gated();
    gated.over_tcp(LIMIT, || shed.in_flight()).await;
    assert_eq!(shed.shed(), (REQUESTS - LIMIT) as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_a_service_with_oneshot() {
    let (gated, shed) = gated();
    gated.through_oneshot(LIMIT, || shed.in_flight()).await;
    assert_eq!(shed.shed(), (REQUESTS - LIMIT) as u64);
}

#[tokio::test]
async fn the_default_learned_limit_fronts_a_router() {
    let shed = ShedLayer::builder().name("api").build().expect("defaults");
    let handle = shed.handle();
    let router: Router = Router::new().route("/", get(|| async { "hello" })).layer(
        ServiceBuilder::new()
            .layer(ErrorResponseLayer::new())
            .layer(shed),
    );
    for _ in 0..3 {
        let request = Request::get("/").body(Body::empty()).expect("a request");
        let response = router.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.expect("the body");
        assert_eq!(body.to_bytes(), "hello");
    }
    assert_eq!(handle.algorithm(), "gradient");
    assert_eq!(handle.in_flight(), 0);
    assert_eq!(handle.shed(), 0);
}

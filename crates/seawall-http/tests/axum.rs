//! `ErrorResponseLayer` in front of an erroring tower layer, given straight
//! to axum's `Router::layer` with no `HandleErrorLayer`.

use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use seawall_core::rejection::{BulkheadFull, Elapsed, Phase};
use seawall_core::BoxError;
use seawall_http::ErrorResponseLayer;
use tower::layer::layer_fn;
use tower::{service_fn, ServiceBuilder, ServiceExt};

fn app() -> Router {
    Router::new().route("/", get(|| async { "hello" }))
}

async fn text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn a_refusing_layer_under_error_response_answers_503() {
    // Stands in for a bulkhead that is full: it never calls the route.
    let refuse = layer_fn(|_route| {
        service_fn(|_: Request<Body>| async {
            let full = BulkheadFull::new(4).with_retry_after(Duration::from_millis(1200));
            Err::<Response<Body>, BoxError>(full.into())
        })
    });
    let router = app().layer(
        ServiceBuilder::new()
            .layer(ErrorResponseLayer::new())
            .layer(refuse),
    );

    let request = Request::get("/").body(Body::empty()).unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "2");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert!(text(response).await.contains("at capacity"));
}

#[tokio::test]
async fn a_timeout_answers_with_the_configured_status() {
    let expire = layer_fn(|_route| {
        service_fn(|_: Request<Body>| async {
            let elapsed = Elapsed::new(Duration::from_secs(1), Phase::Response);
            Err::<Response<Body>, BoxError>(elapsed.into())
        })
    });
    let layer = ErrorResponseLayer::builder()
        .timeout_status(StatusCode::SERVICE_UNAVAILABLE)
        .build()
        .unwrap();
    let router = app().layer(ServiceBuilder::new().layer(layer).layer(expire));

    let request = Request::get("/").body(Body::empty()).unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(!response.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn a_route_that_succeeds_is_unchanged() {
    let router = app().layer(ErrorResponseLayer::new());
    let request = Request::get("/").body(Body::empty()).unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "hello");
}

//! A bulkhead of two in front of an axum router, over real TCP and through
//! `oneshot`: at most two handlers run at once, and everyone else gets a 503
//! with `Retry-After` straight away.
//!
//! The handlers block on a gate that opens only after the eight refusals have
//! arrived, so the test does not depend on timing: while the gate is shut,
//! both permits are held, and every other request must be refused (see
//! `support`).

mod support;

use std::time::Duration;

use seawall::bulkhead::{BulkheadHandle, BulkheadLayer};
use seawall::http::ErrorResponseLayer;
use support::Gated;
use tower::ServiceBuilder;

const PERMITS: usize = 2;

fn gated() -> (Gated, BulkheadHandle) {
    let bulkhead = BulkheadLayer::builder()
        .name("handlers")
        .max_in_flight(PERMITS)
        .retry_after(Duration::from_secs(2))
        .build()
        .expect("a valid bulkhead");
    let handle = bulkhead.handle();
    let gated = Gated::new(|handler| {
        handler.layer(
            ServiceBuilder::new()
                .layer(ErrorResponseLayer::new())
                .layer(bulkhead.into_http()),
        )
    });
    (gated, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tcp_ten_connections_get_two_permits() {
    let (gated, bulkhead) = gated();
    gated.over_tcp(PERMITS, || bulkhead.in_flight()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_a_service_with_oneshot() {
    let (gated, bulkhead) = gated();
    gated
        .through_oneshot(PERMITS, || bulkhead.in_flight())
        .await;
}

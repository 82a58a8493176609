//! The example server: an axum router behind seawall's server stack.

use std::time::Duration;

use axum::{routing::get, Router};
use seawall::bulkhead::{BulkheadHandle, BulkheadLayer};
use seawall::health::HealthRegistry;
use seawall::http::ErrorResponseLayer;
use seawall::timeout::{deadline::HttpExtensions, TimeoutLayer};
use seawall::BoxError;
use tower::ServiceBuilder;

/// How many handlers may run at once.
pub const MAX_IN_FLIGHT: usize = 2;

/// How long a handler may take.
pub const HANDLER_TIMEOUT: Duration = Duration::from_millis(500);

/// How long `/work` takes.
pub const WORK_TIME: Duration = Duration::from_millis(200);

/// The router and a handle on its bulkhead, for reporting.
#[derive(Debug)]
pub struct App {
    /// The router, ready for `axum::serve`.
    pub router: Router,
    /// Reads the bulkhead's occupancy.
    pub bulkhead: BulkheadHandle,
    /// The health registry the layers report to.
    pub health: HealthRegistry,
}

/// Builds the example server.
///
/// - `GET /work` takes [`WORK_TIME`] and answers `done`;
/// - `GET /stuck` never finishes on its own, so the timeout answers `504`.
///
/// At most [`MAX_IN_FLIGHT`] handlers run at once; the rest get `503` with
/// `Retry-After` at once.
pub fn app() -> Result<App, BoxError> {
    let health = HealthRegistry::new();
    let bulkhead = BulkheadLayer::builder()
        .name("handlers")
        .max_in_flight(MAX_IN_FLIGHT)
        .retry_after(Duration::from_secs(1))
        .health(&health)
        .build()?;
    let handle = bulkhead.handle();
    let timeout = TimeoutLayer::builder()
        .name("handlers")
        .timeout(HANDLER_TIMEOUT)
        .deadline_from(HttpExtensions)
        .build()?;

    let router = Router::new()
        .route("/work", get(work))
        .route("/stuck", get(stuck))
        .layer(
            ServiceBuilder::new()
                .layer(ErrorResponseLayer::new())
                .layer(bulkhead.into_http())
                .layer(timeout),
        );
    Ok(App {
        router,
        bulkhead: handle,
        health,
    })
}

async fn work() -> &'static str {
    tokio::time::sleep(WORK_TIME).await;
    "done"
}

async fn stuck() -> &'static str {
    std::future::pending::<()>().await;
    "unreachable"
}

//! Handshaking for tower services: a health endpoint fed by every seawall
//! layer, a readiness gate that refuses work the instance should not take,
//! and a drain for graceful shutdown.
//!
//! - [`HealthService`] serves the
//!   [`HealthRegistry`](seawall_core::health::HealthRegistry) (where every
//!   bulkhead, breaker and governor reports its state) as an
//!   `application/health+json` document, as a readiness probe or as a
//!   liveness probe ([`Liveness`]).
//! - [`ReadinessGateLayer`] refuses new requests with [`NotReady`] while
//!   the instance drains, and counts the requests in flight.
//! - [`Drain`] fails readiness, gives the load balancer time to notice,
//!   then waits for the requests in flight, with a bound.
//! - [`BackoffLayer`], on the client side, remembers per upstream a `503`
//!   or `429` with `Retry-After` and fails calls to it fast with
//!   [`UpstreamBackoff`] until that time has passed; see [`backoff`].
//!
//! # Example
//!
//! Mount the probes beside the application, and put the gate under
//! seawall-http's `ErrorResponseLayer`, which answers the gate's refusal
//! with `503` and `Retry-After`. The probes are added after the gate, so
//! they keep answering while the instance drains.
//!
//! ```
//! use std::time::Duration;
//! use axum::{body::Body, http::{Request, StatusCode}, routing::get, Router};
//! use seawall_core::health::HealthRegistry;
//! use seawall_handshake::{Drain, HealthService, Liveness, ReadinessGateLayer};
//! use seawall_http::ErrorResponseLayer;
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), seawall_core::BoxError> {
//! let registry = HealthRegistry::new();
//! let drain = Drain::builder()
//!     .notice_delay(Duration::from_secs(10))
//!     .timeout(Duration::from_secs(30))
//!     .build()?;
//! let liveness = Liveness::new();
//!
//! let app = Router::new()
//!     .route("/orders", get(|| async { "orders" }))
//!     .layer(
//!         ServiceBuilder::new()
//!             .layer(ErrorResponseLayer::new())
//!             .layer(ReadinessGateLayer::new(&drain)),
//!     )
//!     .route_service(
//!         "/health/ready",
//!         HealthService::readiness(registry.clone(), &drain).version("1.4.2"),
//!     )
//!     .route_service("/health/live", HealthService::liveness(&liveness));
//!
//! let get = |uri: &'static str| Request::get(uri).body(Body::empty()).unwrap();
//! let ready = app.clone().oneshot(get("/health/ready")).await?;
//! assert_eq!(ready.status(), StatusCode::OK);
//! assert_eq!(ready.headers()["content-type"], "application/health+json");
//!
//! // On SIGTERM: readiness fails at once and new requests are refused...
//! let drained = drain.drain();
//! let ready = app.clone().oneshot(get("/health/ready")).await?;
//! assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
//! let refused = app.clone().oneshot(get("/orders")).await?;
//! assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
//! assert_eq!(refused.headers()["retry-after"], "5");
//!
//! // ...but the process is still alive, and the drain ends when nothing
//! // is in flight, after the notice delay.
//! let live = app.oneshot(get("/health/live")).await?;
//! assert_eq!(live.status(), StatusCode::OK);
//! assert!(drained.await.is_finished());
//! # Ok(())
//! # }
//! ```
//!
//! # Shedding, not back pressure
//!
//! The gate sheds: while draining it reports ready and fails the call at
//! once with [`NotReady`], never polling the inner service, so axum and
//! hyper (which assume always-ready services) get a fast `503`. While not
//! draining, its readiness is the inner service's. The health services are
//! always ready.
//!
//! # Errors
//!
//! The gate's error is a [`BoxError`](seawall_core::BoxError): the inner
//! service's error unchanged, or a [`NotReady`]
//! (`err.is::<NotReady>()`), which
//! [`seawall_core::rejection::find`] recognises with
//! [`Pattern::Handshake`](seawall_core::rejection::Pattern::Handshake), so
//! seawall-http answers `503 Service Unavailable` with the configured
//! `Retry-After` (5 s by default).
//!
//! # Cancel safety
//!
//! A request counts in flight from the gate's `poll_ready` until its
//! response future completes or is dropped; a gate dropped before `call`
//! gives its count back. Dropping the future of [`Drain::drain`] stops the
//! waiting but leaves the instance draining until [`Drain::undrain`].
//!
//! # Logging
//!
//! Under the target `seawall::handshake`: each refusal at `trace!` (field
//! `retry_after`), drain start and end, undrain and liveness changes at
//! `debug!`.
//!
//! # Limitations
//!
//! - The gate closes only while draining. A critical component reporting
//!   `fail` fails the readiness probe, so the load balancer stops sending
//!   work, but the gate does not read the registry on every request (that
//!   takes a lock).
//! - The request in flight is counted until its response future completes,
//!   not until its response body ends: a long streaming body may still be
//!   sent when the drain resolves.
//! - No metrics are recorded yet.
//! - Not built yet from the handshaking issue: a hardened serve helper (a
//!   header-read timeout, connection limits, graceful shutdown wired to the
//!   drain), a test behind HAProxy, and SIGTERM wiring; the application
//!   calls [`Drain::drain`] from its own signal handler.

pub mod backoff;
mod drain;
pub mod error;
pub mod future;
mod health;
mod json;
mod layer;
mod liveness;
mod rfc3339;
mod service;

pub use backoff::{Backoff, BackoffBuilder, BackoffLayer, UpstreamBackoff};
pub use drain::{Drain, DrainBuilder, DrainOutcome};
pub use error::{ConfigError, NotReady};
pub use health::{Details, HealthService, HEALTH_JSON};
pub use layer::{ReadinessGateBuilder, ReadinessGateLayer};
pub use liveness::Liveness;
pub use service::ReadinessGate;

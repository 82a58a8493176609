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
//! - [`Drain`] fails readiness, gives the load balancer time to notice
//!   (still serving what it sends meanwhile), then closes the gate and
//!   waits for the requests in flight, with a bound.
//! - [`BackoffLayer`], on the client side, remembers per upstream a `503`
//!   or `429` with `Retry-After` and fails calls to it fast with
//!   [`UpstreamBackoff`] until that time has passed; see [`backoff`].
//! - With the `serve` feature, [`serve::Server`] serves a router over
//!   HTTP/1 with a header-read timeout (against slowloris clients), an
//!   idle timeout, a cap on open connections and a graceful shutdown to
//!   run after the drain.
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
//! // On SIGTERM: readiness fails at once...
//! let drained = drain.drain();
//! let ready = app.clone().oneshot(get("/health/ready")).await?;
//! assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
//!
//! // ...but until the load balancer has noticed, what it sends is served...
//! let late = app.clone().oneshot(get("/orders")).await?;
//! assert_eq!(late.status(), StatusCode::OK);
//!
//! // ...and after the notice delay new requests are refused.
//! tokio::time::advance(Duration::from_secs(10)).await;
//! let refused = app.clone().oneshot(get("/orders")).await?;
//! assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
//! assert_eq!(refused.headers()["retry-after"], "5");
//!
//! // The process is still alive, and the drain ends when nothing is in
//! // flight.
//! let live = app.oneshot(get("/health/live")).await?;
//! assert_eq!(live.status(), StatusCode::OK);
//! assert!(drained.await.is_finished());
//! # Ok(())
//! # }
//! ```
//!
//! # Shedding, not back pressure
//!
//! The gate sheds: once a drain's notice delay is over it reports ready
//! and fails the call at once with [`NotReady`], never polling the inner
//! service, so axum and hyper (which assume always-ready services) get a
//! fast `503`. Before that, its readiness is the inner service's. The
//! health services are always ready.
//!
//! # Why the gate stays open during the notice delay
//!
//! A load balancer sees a failing readiness probe only at its next check,
//! and takes the instance out only after a few failures in a row. Until
//! then it keeps sending requests; a gate that refused them at once would
//! turn a planned drain into failed requests (or into retries, where the
//! balancer has them). So the drain fails readiness at once and closes the
//! gate only when the notice delay is over: set the delay to a little more
//! than the balancer's check interval times its failure threshold.
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
//! # Logging and metrics
//!
//! Under the target `seawall::handshake`: each refusal at `trace!` (field
//! `retry_after`), drain start and end, undrain and liveness changes at
//! `debug!`. Metrics, labelled `name` (set with [`DrainBuilder::name`]):
//! `seawall_handshake_draining` (gauge, 1 while draining) and
//! `seawall_handshake_refused_total` (the gate's refusals); the back-off
//! and the server have their own, listed in [`backoff`] and `serve`.
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
//! - The library installs no signal handler: the application calls
//!   [`Drain::drain`] from its own (the example server in `examples/`
//!   does it on SIGTERM and Ctrl-C, and is tested behind HAProxy).
//! - While the gate is closed, kept-alive connections stay open; a client
//!   that keeps reusing one gets `503`s until it reconnects elsewhere.

pub mod backoff;
mod drain;
pub mod error;
pub mod future;
mod health;
mod json;
mod layer;
mod liveness;
mod rfc3339;
#[cfg(feature = "serve")]
pub mod serve;
mod service;

pub use backoff::{Backoff, BackoffBuilder, BackoffLayer, UpstreamBackoff};
pub use drain::{Drain, DrainBuilder, DrainOutcome};
pub use error::{ConfigError, NotReady};
pub use health::{Details, HealthService, HEALTH_JSON};
pub use layer::{ReadinessGateBuilder, ReadinessGateLayer};
pub use liveness::Liveness;
pub use service::ReadinessGate;

//! Stability patterns from *Release It!* as tower middleware.
//!
//! seawall makes a service production-ready the way Michael Nygard's book
//! describes: every integration point gets a timeout, work is fenced into
//! bulkheads, and every refusal turns into an HTTP answer a caller can act
//! on (`503` with `Retry-After`, `504`), not a hung connection.
//!
//! This crate re-exports each pattern behind a cargo feature (all on by
//! default):
//!
//! | feature | module | what |
//! |---|---|---|
//! | `timeout` | [`timeout`] | a timeout that also bounds readiness and honours a request's deadline |
//! | `bulkhead` | [`bulkhead`] | shared permits, reject or bounded wait, partitions |
//! | `breaker` | [`breaker`] | a circuit breaker: count or time windows, bounded half-open probes, keyed per host, operator control |
//! | `shed` | [`shed`] | load shedding at a concurrency limit learned from latency, a deadline-aware queue, back pressure, shadow mode |
//! | `handshake` | [`handshake`] | health and readiness endpoints fed by every layer, a readiness gate, drain |
//! | `serve` (off by default) | [`serve`] | a hardened HTTP/1 server: header-read and idle timeouts, a connection cap, graceful shutdown after a drain |
//! | `governor` | [`governor`] | rate limits (GCRA), direct and keyed with bounded memory; a governor for automated actions |
//! | `http` | [`http`] | classifier, error responses, deadline headers, client-IP keys; the HTTP variants of the layers |
//! | `reqwest` | [`http`] | `ReqwestClassifier`, for layers around a `reqwest::Client` |
//!
//! The shared vocabulary ([`Outcome`], [`Classify`], [`rejection`],
//! [`Deadline`], [`health`]) is always present.
//!
//! # Example
//!
//! An axum router that sheds load at a concurrency limit it learns from its
//! own latency, and whose handlers run at most two at a time and at most one
//! second each. Refusals become `503` with `Retry-After`, timeouts `504`, with
//! no `HandleErrorLayer`:
//!
//! ```
//! use std::time::Duration;
//! use axum::{routing::get, Router};
//! use seawall::bulkhead::BulkheadLayer;
//! use seawall::http::ErrorResponseLayer;
//! use seawall::shed::ShedLayer;
//! use seawall::timeout::{deadline::HttpExtensions, TimeoutLayer};
//! use tower::ServiceBuilder;
//!
//! # fn main() -> Result<(), seawall::BoxError> {
//! let shed = ShedLayer::builder().name("handlers").build()?;
//! let bulkhead = BulkheadLayer::builder()
//!     .name("handlers")
//!     .max_in_flight(2)
//!     .build()?
//!     .into_http();
//! let timeout = TimeoutLayer::builder()
//!     .name("handlers")
//!     .timeout(Duration::from_secs(1))
//!     .deadline_from(HttpExtensions)
//!     .build()?;
//!
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(
//!         ServiceBuilder::new()
//!             .layer(ErrorResponseLayer::new())
//!             .layer(shed)
//!             .layer(bulkhead)
//!             .layer(timeout),
//!     );
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! # Layer order
//!
//! Outer to inner, a server stack reads: error responses, then the shedder,
//! then the bulkhead, then the timeout, then the application. The error
//! response layer is outermost so that every refusal below it becomes a
//! response; the shedder sits outside the timeout so that a call the timeout
//! cuts short reaches it as a loss, and its latency samples cover the whole
//! call; the bulkhead comes before the timeout so that a request waiting for
//! nothing is refused at once rather than timed. `docs/ARCHITECTURE.md` in the repository
//! explains the full server and client orders.

#[doc(inline)]
pub use seawall_core::{
    health, names, rejection, BoxError, Classify, Deadline, DefaultClassifier, FailureKind,
    Outcome, Rejection,
};

#[cfg(feature = "breaker")]
#[doc(inline)]
pub use seawall_breaker as breaker;
#[cfg(feature = "bulkhead")]
#[doc(inline)]
pub use seawall_bulkhead as bulkhead;
#[cfg(feature = "governor")]
#[doc(inline)]
pub use seawall_governor as governor;
#[cfg(feature = "handshake")]
#[doc(inline)]
pub use seawall_handshake as handshake;
#[cfg(feature = "serve")]
#[doc(inline)]
pub use seawall_handshake::serve;
#[cfg(feature = "http")]
#[doc(inline)]
pub use seawall_http as http;
#[cfg(feature = "shed")]
#[doc(inline)]
pub use seawall_shed as shed;
#[cfg(feature = "timeout")]
#[doc(inline)]
pub use seawall_timeout as timeout;

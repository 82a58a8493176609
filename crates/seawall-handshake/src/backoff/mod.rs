//! A client-side back-off per upstream: an upstream that answers `503` or
//! `429` with `Retry-After` is not called again until that time has
//! passed.
//!
//! [`BackoffLayer`] wraps a client service of `http::Request`s (a
//! hyper-util `Client`, a hand-made connector). It keys its memory by the
//! request URI's authority, or the `Host` header when the URI has none, and
//! when an upstream asks for time, later calls to it fail at once with
//! [`UpstreamBackoff`] without reaching the inner service. Other upstreams
//! are not affected. The `Retry-After` is read by
//! [`seawall_http::retry_after::parse_retry_after`]: malformed values and
//! dates in the past are ignored, and waits are capped at five minutes.
//!
//! ```
//! use std::time::Duration;
//! use http::{Request, Response, StatusCode};
//! use seawall_handshake::backoff::{BackoffLayer, UpstreamBackoff};
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let upstream = service_fn(|_: Request<()>| async {
//!     let busy = Response::builder()
//!         .status(StatusCode::SERVICE_UNAVAILABLE)
//!         .header("retry-after", "2")
//!         .body(())?;
//!     Ok::<_, http::Error>(busy)
//! });
//! let client = BackoffLayer::new().layer(upstream);
//! let request = || Request::get("http://api.example/").body(()).unwrap();
//!
//! let busy = client.clone().oneshot(request()).await.unwrap();
//! assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
//!
//! // For the next two seconds, calls to api.example fail fast.
//! let error = client.clone().oneshot(request()).await.unwrap_err();
//! let backoff = error.downcast_ref::<UpstreamBackoff>().unwrap();
//! assert_eq!(backoff.authority(), "api.example");
//! assert_eq!(backoff.retry_after(), Duration::from_secs(2));
//! assert_eq!(error.to_string(), "upstream asked to back off, retry after 2s");
//!
//! tokio::time::advance(Duration::from_secs(2)).await;
//! assert!(client.oneshot(request()).await.is_ok());
//! # }
//! ```
//!
//! # Sheds
//!
//! The back-off never applies back pressure of its own: `poll_ready` is the
//! inner service's readiness (the upstream is not known before `call`), and
//! a call to an upstream that is backing off fails in its response future,
//! at once, without calling the inner service.
//!
//! A success does not end a back-off early: the upstream asked for time,
//! and one answer (from another instance behind the same name, or sent
//! before the back-off began) does not say it has recovered. A later
//! `Retry-After` extends a back-off; an earlier one never shortens it.
//!
//! # Errors
//!
//! The error is a [`BoxError`](seawall_core::BoxError): the inner service's
//! error unchanged, or an [`UpstreamBackoff`] (`err.is::<UpstreamBackoff>()`)
//! with the upstream's [`authority`](UpstreamBackoff::authority) and the
//! time left ([`retry_after`](UpstreamBackoff::retry_after)). It is a
//! client-side error, not a server rejection: seawall-http does not map it
//! to a response, and [`seawall_core::rejection::find`] does not recognise
//! it.
//!
//! # Cancel safety
//!
//! The response is looked at when the inner future completes: dropping the
//! future before that leaves nothing held and records nothing, so an
//! upstream's request for time is missed only if its answer is never read.
//! A refused call never reached the inner service, so the readiness the
//! inner service granted in `poll_ready` is kept for the next call.
//!
//! # Logging and metrics
//!
//! Under the target `seawall::handshake`: each refused call at `trace!`
//! (fields `authority`, `retry_after`), a new or longer back-off at
//! `debug!` (fields `status`, `retry_after`). Each call failed fast bumps
//! the counter `seawall_handshake_backoff_refused_total` (label `name`,
//! set with [`BackoffBuilder::name`]).
//!
//! # Limitations
//!
//! - A circuit breaker's default classifier counts [`UpstreamBackoff`] as a
//!   failure of the upstream, since it is not one of the rejections core
//!   knows. Put the back-off outside the breaker (the breaker then never
//!   sees it), or classify it as ignored in a custom classifier; inside the
//!   breaker, a back-off can keep it open.
//! - A date in `Retry-After` is measured against `SystemTime::now()`, the
//!   wall clock, and then held on tokio's clock; a paused test clock does
//!   not move dates, so tests use delta-seconds.
//! - Upstreams are told apart by their authority as the request writes it,
//!   case-insensitively: `api.example` and `api.example:443` are two
//!   upstreams. Entries are keyed by a seeded 64-bit hash of it, so a
//!   collision (vanishingly unlikely) would make two upstreams share one
//!   back-off; the `debug!` event therefore does not name the upstream.
//! - While any upstream is backing off, each call takes a short,
//!   uncontended-in-practice lock to look its upstream up; once every
//!   back-off has passed, calls take no lock.

mod error;
pub mod future;
mod layer;
mod service;
mod table;

pub use error::UpstreamBackoff;
pub use layer::{BackoffBuilder, BackoffLayer};
pub use service::Backoff;

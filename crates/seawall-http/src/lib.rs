//! HTTP for seawall's stability middleware.
//!
//! seawall's layers speak in [`seawall_core`]'s terms: outcomes, rejections,
//! deadlines. This crate maps that vocabulary onto HTTP:
//!
//! - [`HttpClassifier`] judges an HTTP call for the layers that learn from
//!   results (breakers, adaptive limits, retry budgets): 5xx and transport
//!   errors count against the upstream, 429 and 503 with `Retry-After` mean
//!   it is overloaded, other 4xx are the caller's fault.
//! - [`ErrorResponseLayer`] turns every error of a server stack into a
//!   response (503, 504, 429 with `Retry-After`; a generic 500 for anything
//!   else), so the stack has an [`Infallible`](std::convert::Infallible)
//!   error and goes straight into axum's `Router::layer` without
//!   `HandleErrorLayer`. See [`response`] for the full table.
//! - [`ExtractDeadlineLayer`] and [`PropagateDeadlineLayer`] carry a
//!   request's [`Deadline`](seawall_core::Deadline) from hop to hop in a
//!   header. See [`deadline`].
//! - [`key`] says who is asking, for rate limits per client, API key or
//!   route: [`ClientIp`](key::ClientIp) finds the client's address behind
//!   [trusted proxies](key::TrustedProxies) without letting a client
//!   forge it, and [`PeerAddr`](key::PeerAddr) carries the connection's
//!   address into the request.
//!
//! Use it on the server side outermost, in front of the other seawall
//! layers, and on the client side to classify responses and pass deadlines
//! on.
//!
//! # Example
//!
//! A service that fails in every way seawall knows, behind
//! `ErrorResponseLayer`:
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use seawall_core::rejection::{BulkheadFull, Elapsed, Phase};
//! use seawall_core::BoxError;
//! use seawall_http::ErrorResponseLayer;
//! use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let failing = service_fn(|request: Request<()>| async move {
//!     let error: BoxError = match request.uri().path() {
//!         "/full" => BulkheadFull::new(8).with_retry_after(Duration::from_millis(2500)).into(),
//!         "/slow" => Elapsed::new(Duration::from_secs(2), Phase::Response).into(),
//!         _ => "database password rejected".into(),
//!     };
//!     Err::<Response<Full<Bytes>>, _>(error)
//! });
//! let mut service = ServiceBuilder::new()
//!     .layer(ErrorResponseLayer::new())
//!     .service(failing);
//!
//! let full = Request::get("/full").body(()).unwrap();
//! let Ok(response) = service.ready().await.unwrap().call(full).await;
//! assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
//! assert_eq!(response.headers()["retry-after"], "3");
//! assert_eq!(response.headers()["content-type"], "application/problem+json");
//!
//! let slow = Request::get("/slow").body(()).unwrap();
//! let Ok(response) = service.ready().await.unwrap().call(slow).await;
//! assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
//!
//! // Anything else is a 500 that does not leak the error's text.
//! let other = Request::get("/").body(()).unwrap();
//! let Ok(response) = service.oneshot(other).await;
//! assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
//! let body = response.into_body().collect().await.unwrap().to_bytes();
//! assert!(!String::from_utf8_lossy(&body).contains("password"));
//! # }
//! ```
//!
//! # Status mapping
//!
//! | error | status |
//! |---|---|
//! | timeout | 504 (or 503, configurable), no `Retry-After` unless given |
//! | bulkhead, load shed | 503 with `Retry-After` (1 s unless given) |
//! | circuit breaker, handshake, retry budget, later patterns | 503, `Retry-After` if given |
//! | governor | 429, `Retry-After` if given, `RateLimit-Policy` and `RateLimit` for a named quota |
//! | not a seawall rejection | 500, generic body, logged at `warn!` |
//!
//! `Retry-After` is in whole seconds rounded up, at least 1, at most 300 by
//! default. Bodies are RFC 9457 problem JSON with a fixed `detail` per row.
//!
//! A governor's [`RateLimited`](seawall_core::rejection::RateLimited) that
//! names its quota also gets the two fields of the IETF draft
//! draft-ietf-httpapi-ratelimit-headers, in the structured-field form of
//! drafts -08 to -11 (checked against -11):
//!
//! ```text
//! RateLimit-Policy: "<name>";q=<limit>;w=<window seconds, rounded up, at least 1>
//! RateLimit: "<name>";r=0;t=<the Retry-After value>
//! ```
//!
//! The name is escaped into a structured-field string; see
//! [response](response#rate-limit-fields) for the details.
//!
//! # Tracing
//!
//! Everything is logged under the target `seawall::http`: rejections
//! answered and deadline headers read, written or ignored at `trace!`, inner
//! errors swallowed into a 500 at `warn!`.
//!
//! # Limitations
//!
//! - [`HttpClassifier`] classifies `BoxError` and a few concrete error types
//!   (see [`AsError`]); another error type needs a one-line `AsError` impl or
//!   a closure.
//! - [`ErrorResponse`] always answers with problem JSON; there is no content
//!   negotiation.
//! - A malformed deadline header is ignored; it cannot be refused with a 400.
//! - No metrics yet: responses made from errors are only logged.
//! - The rate-limit fields are written on refusals only, not on the
//!   successful responses a governor lets through; the draft they follow
//!   may still change.
//! - Client IPs behind proxies are only as honest as the proxies listed as
//!   trusted; see [`key`](key#limitations).

pub mod classify;
pub mod deadline;
pub mod error;
pub mod future;
pub mod key;
#[cfg(feature = "reqwest")]
mod reqwest_classify;
pub mod response;
pub mod retry_after;

pub use classify::{AsError, HttpClassifier};
pub use deadline::{
    ExtractDeadline, ExtractDeadlineBuilder, ExtractDeadlineLayer, PropagateDeadline,
    PropagateDeadlineLayer, DEFAULT_DEADLINE_HEADER,
};
#[cfg(feature = "reqwest")]
pub use reqwest_classify::ReqwestClassifier;
pub use response::{ErrorResponse, ErrorResponseBuilder, ErrorResponseLayer, ResponseBody};

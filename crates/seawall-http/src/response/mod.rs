//! Turning errors into responses: [`ErrorResponseLayer`] and its service
//! [`ErrorResponse`].
//!
//! Every seawall layer refuses work with an error (a
//! [`Rejection`](seawall_core::Rejection)). `ErrorResponse` sits outermost in
//! a server stack and answers each error with a response, so the stack's
//! error type becomes [`Infallible`](std::convert::Infallible) and the stack
//! can be given to axum's `Router::layer` or served by hyper directly, with
//! no `HandleErrorLayer`.
//!
//! # Status mapping
//!
//! The rejection is found with [`seawall_core::rejection::find`], in the error
//! or in its chain of sources, and answered by the pattern that refused:
//!
//! | refused by | status | `Retry-After` |
//! |---|---|---|
//! | timeout | `504 Gateway Timeout`, or the configured [`timeout_status`](ErrorResponseBuilder::timeout_status) | only if the rejection carries one |
//! | bulkhead | `503 Service Unavailable` | the rejection's, else 1 s |
//! | load shed | `503 Service Unavailable` | the rejection's, else 1 s |
//! | circuit breaker | `503 Service Unavailable` | only if the rejection carries one |
//! | handshake (draining, not ready) | `503 Service Unavailable` | only if the rejection carries one |
//! | retry (budget exhausted) | `503 Service Unavailable` | only if the rejection carries one |
//! | governor (rate limit) | `429 Too Many Requests` | only if the rejection carries one |
//! | a pattern added later | `503 Service Unavailable` | only if the rejection carries one |
//! | any error that is not a seawall rejection | `500 Internal Server Error` | never |
//!
//! `Retry-After` is the rejection's
//! [`retry_after()`](seawall_core::Rejection::retry_after) in whole seconds,
//! rounded up, at least 1, and at most the configured
//! [`max_retry_after`](ErrorResponseBuilder::max_retry_after) (300 s by
//! default). A bulkhead or a load shedder is congested only until a request
//! finishes, so without a hint of its own it gets the smallest value, 1 s.
//!
//! # Body
//!
//! Every response made from an error has an RFC 9457 problem-details body,
//! `Content-Type: application/problem+json`, with `type` `about:blank`, the
//! status's reason phrase as `title`, the `status`, and a short `detail` that
//! is fixed per row of the table above:
//!
//! ```json
//! {"type":"about:blank","title":"Service Unavailable","status":503,"detail":"the service is at capacity"}
//! ```
//!
//! No text of the error itself reaches the client. A rejection is logged at
//! `trace!` under the target `seawall::http` with the fields `status`,
//! `pattern` and `retry_after`; any other error is swallowed into the `500`,
//! so it is logged at `warn!` with its `Display` in the field `error`.
//!
//! # Readiness
//!
//! `ErrorResponse` neither sheds nor adds back pressure of its own: its
//! `poll_ready` is the inner service's. When the inner `poll_ready` fails,
//! there is no request yet to answer, so `ErrorResponse` keeps the error,
//! reports ready, and answers the next `call` with the error's response
//! without calling the inner service. The inner service is not treated as
//! dead: the following `poll_ready` asks it again. Calling without a
//! successful `poll_ready` panics, as the `Service` contract allows.
//!
//! # Cancel safety
//!
//! Dropping the response future drops the inner future; `ErrorResponse`
//! itself holds nothing.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Empty;
//! use seawall_core::rejection::BulkheadFull;
//! use seawall_http::ErrorResponseLayer;
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let full = service_fn(|_: Request<()>| async {
//!     Err::<Response<Empty<Bytes>>, _>(
//!         BulkheadFull::new(8).with_retry_after(Duration::from_millis(200)),
//!     )
//! });
//! let service = ServiceBuilder::new()
//!     .layer(ErrorResponseLayer::new())
//!     .service(full);
//!
//! let Ok(response) = service.oneshot(Request::new(())).await;
//! assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
//! assert_eq!(response.headers()["retry-after"], "1");
//! # }
//! ```
//!
//! # Limitations
//!
//! - The body is always problem JSON; content negotiation (plain text or
//!   HTML for a browser) is not offered.
//! - Only the rejection types that [`seawall_core::rejection::find`] knows
//!   are recognised inside an error; a rejection type of your own can still
//!   be mapped by hand with
//!   [`ErrorResponseLayer::rejection_response`].

mod body;
mod layer;
pub(crate) mod mapping;
mod service;

pub use body::ResponseBody;
pub use layer::{ErrorResponseBuilder, ErrorResponseLayer};
pub use service::ErrorResponse;

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
//! | governor (rate limit) | `429 Too Many Requests`, with [`RateLimit-Policy` and `RateLimit`](#rate-limit-fields) when the quota is known | only if the rejection carries one |
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
//! # Rate-limit fields
//!
//! When the governor's refusal is a
//! [`RateLimited`](seawall_core::rejection::RateLimited) that names its
//! [`QuotaPolicy`](seawall_core::rejection::QuotaPolicy) (found in the
//! error or its chain of sources), the `429` also carries the two fields of
//! the IETF draft *RateLimit header fields for HTTP*
//! (draft-ietf-httpapi-ratelimit-headers; the structured-field form of
//! drafts -08 to -11, checked against -11):
//!
//! ```text
//! RateLimit-Policy: "<name>";q=<limit>;w=<window>
//! RateLimit: "<name>";r=0;t=<reset>
//! ```
//!
//! - `<name>` is the policy's name as a structured-field String: `"` and
//!   `\` are escaped with a backslash, characters outside printable ASCII
//!   (`0x20..=0x7E`) are dropped, and a name with nothing left is written
//!   as `"default"`.
//! - `q` is the policy's [`limit`](seawall_core::rejection::QuotaPolicy::limit).
//! - `w` is its [`window`](seawall_core::rejection::QuotaPolicy::window) in
//!   whole seconds, rounded up, at least 1 (the draft forbids a zero
//!   window).
//! - `r=0`: nothing is left; the request was refused.
//! - `t` is exactly the `Retry-After` value sent with it: the refusal's
//!   wait in whole seconds, rounded up, at least 1, at most the configured
//!   [`max_retry_after`](ErrorResponseBuilder::max_retry_after). A client
//!   that reads either field waits as long, and never zero seconds while
//!   it is limited.
//!
//! Integers above 999,999,999,999,999 (the largest a structured field
//! holds) are written as that. A `RateLimited` without a policy gets
//! `Retry-After` only: the fields would have to invent a name. The names
//! are exported as [`RATE_LIMIT_POLICY`] and [`RATE_LIMIT`].
//!
//! ```
//! use std::time::Duration;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Empty;
//! use seawall_core::rejection::{QuotaPolicy, RateLimited};
//! use seawall_http::ErrorResponseLayer;
//!
//! let refused = RateLimited::new(Duration::from_millis(1500))
//!     .with_policy(QuotaPolicy::new("per-client", 100, Duration::from_secs(60)));
//! let response: Response<seawall_http::ResponseBody<Empty<bytes::Bytes>>> =
//!     ErrorResponseLayer::new().error_response(&refused);
//!
//! assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
//! assert_eq!(response.headers()["retry-after"], "2");
//! assert_eq!(response.headers()["ratelimit-policy"], r#""per-client";q=100;w=60"#);
//! assert_eq!(response.headers()["ratelimit"], r#""per-client";r=0;t=2"#);
//! ```
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
//! `pattern`, `retry_after` and, for a named quota, `policy`; any other
//! error is swallowed into the `500`, so it is logged at `warn!` with its
//! `Display` in the field `error`.
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
mod rate_limit;
mod service;

pub use body::ResponseBody;
pub use layer::{ErrorResponseBuilder, ErrorResponseLayer};
pub use rate_limit::{RATE_LIMIT, RATE_LIMIT_POLICY};
pub use service::ErrorResponse;

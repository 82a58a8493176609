//! Deadline propagation over HTTP: the header side of
//! [`Deadline`](seawall_core::Deadline).
//!
//! A client that has 800 ms left tells the server so in a header; the server
//! turns the header back into a `Deadline` in the request's extensions, and
//! every seawall timeout below it uses the smaller of its own limit and what
//! is left. When the server calls further upstream, its client stack writes
//! what is left by then. Work nobody waits for any more stops at every hop.
//!
//! - [`ExtractDeadlineLayer`] (server side) reads the header.
//! - [`PropagateDeadlineLayer`] (client side) writes it.
//!
//! Neither sheds nor adds back pressure: `poll_ready` is the inner
//! service's, and they add no error of their own, so the inner service's
//! errors (a seawall rejection included) pass through unchanged. Neither
//! holds a reservation, so neither tracks readiness: calling without
//! `poll_ready` is whatever the inner service makes of it.
//!
//! # Cancel safety
//!
//! Their response future is the inner service's own; dropping it cancels
//! exactly what the inner service cancels, and these layers hold nothing.
//!
//! # The header
//!
//! [`DEFAULT_DEADLINE_HEADER`] (`x-seawall-deadline-ms`) unless configured.
//! Its value is the time left, in whole milliseconds, as a non-negative
//! decimal integer (`1*DIGIT`, optionally surrounded by spaces), relative to
//! when the request is sent, so the two hosts' clocks need not agree. The
//! time spent on the wire is not subtracted: the budget errs on the long
//! side by the one-way latency.
//!
//! # Reading
//!
//! [`ExtractDeadline`] inserts `Deadline::after(budget)`, with the budget cut
//! down to the configured [`max_budget`](ExtractDeadlineBuilder::max_budget)
//! (60 s by default). A `Deadline` already in the extensions is kept when it
//! is earlier. The header is left on the request.
//!
//! A value that is not well formed is ignored: no deadline is inserted, the
//! request goes on as if the header were absent, and a `trace!` event under
//! `seawall::http` gives the `reason`:
//!
//! | value | reason |
//! |---|---|
//! | empty, or only spaces | `empty` |
//! | a sign, a fraction, a unit, letters, non-ASCII bytes | `not_a_number` |
//! | more than `u64::MAX` milliseconds | `overflow` |
//! | the header given more than once | `repeated` |
//!
//! `0` is well formed: the caller has given up already, and the first
//! seawall timeout below answers at once.
//!
//! # Writing
//!
//! [`PropagateDeadline`] writes the time left of the request's `Deadline`,
//! rounded down to the millisecond, replacing any copy of the header already
//! on the request: a header copied from an inbound request that is being
//! forwarded would be stale. Without a `Deadline` it only removes the
//! header. An expired deadline is written as `0` rather than failed here:
//! put a seawall timeout (which honours the `Deadline` and fails at once)
//! above this layer to avoid the call.
//!
//! ```
//! use std::time::Duration;
//! use http::Request;
//! use seawall_core::Deadline;
//! use seawall_http::{ExtractDeadlineLayer, PropagateDeadlineLayer};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // A client stack writes the header...
//! let client = ServiceBuilder::new()
//!     .layer(PropagateDeadlineLayer::new())
//!     .service(service_fn(|request: Request<()>| async move {
//!         Ok::<_, std::convert::Infallible>(request)
//!     }));
//! let mut request = Request::new(());
//! request.extensions_mut().insert(Deadline::after(Duration::from_millis(800)));
//! let sent = client.oneshot(request).await?;
//! assert_eq!(sent.headers()["x-seawall-deadline-ms"], "800");
//!
//! // ...and a server stack reads it back.
//! let server = ServiceBuilder::new()
//!     .layer(ExtractDeadlineLayer::new())
//!     .service(service_fn(|request: Request<()>| async move {
//!         let deadline = request.extensions().get::<Deadline>().copied();
//!         Ok::<_, std::convert::Infallible>(deadline.map(|d| d.remaining()))
//!     }));
//! let received = Request::builder()
//!     .header("x-seawall-deadline-ms", sent.headers()["x-seawall-deadline-ms"].clone())
//!     .body(())?;
//! let remaining = server.oneshot(received).await?;
//! assert_eq!(remaining, Some(Duration::from_millis(800)));
//! # Ok(())
//! # }
//! ```
//!
//! # Limitations
//!
//! - A malformed header is always ignored; there is no setting to refuse
//!   the request with a `400`.
//! - Inserting the extension and writing the header each allocate a little
//!   per request, which the other seawall layers avoid.

mod extract;
mod parse;
mod propagate;

use http::HeaderName;

pub use extract::{ExtractDeadline, ExtractDeadlineBuilder, ExtractDeadlineLayer};
pub use propagate::{PropagateDeadline, PropagateDeadlineLayer};

/// The header that carries the remaining budget unless configured:
/// `x-seawall-deadline-ms`.
pub const DEFAULT_DEADLINE_HEADER: HeaderName = HeaderName::from_static("x-seawall-deadline-ms");

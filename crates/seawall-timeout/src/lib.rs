//! Timeouts for tower services that also bound the wait for readiness and
//! honour a request's overall deadline.
//!
//! A call to an integration point that never answers holds a task, a
//! connection and whatever the caller reserved for it, for ever. A
//! [`TimeoutLayer`] gives up on it after a limit and fails with
//! [`Elapsed`](error::Elapsed), so the caller's resources come back and it
//! can answer something useful instead.
//!
//! It bounds up to three waits:
//!
//! - the **response**: from `call` until the inner future resolves, at most
//!   [`timeout`](TimeoutBuilder::timeout);
//! - **readiness**: how long `poll_ready` may stay `Pending` waiting for the
//!   inner service, at most
//!   [`ready_timeout`](TimeoutBuilder::ready_timeout) when one is set
//!   (tower's own `Timeout` leaves this wait unbounded);
//! - the request's **overall deadline**: a [`Deadline`](seawall_core::Deadline)
//!   carried by the request shortens the response timeout to what is left of
//!   it, when that is less.
//!
//! # Example
//!
//! ```
//! use std::convert::Infallible;
//! use std::time::Duration;
//!
//! use seawall_timeout::{error::Elapsed, TimeoutLayer};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), seawall_core::BoxError> {
//! let layer = TimeoutLayer::builder()
//!     .timeout(Duration::from_millis(200))
//!     .ready_timeout(Duration::from_millis(50))
//!     .name("inventory")
//!     .build()?;
//!
//! let slow = service_fn(|_: &'static str| async {
//!     tokio::time::sleep(Duration::from_secs(5)).await;
//!     Ok::<_, Infallible>("too late")
//! });
//! let service = ServiceBuilder::new().layer(layer).service(slow);
//!
//! let error = service.oneshot("stock?").await.unwrap_err();
//! let elapsed = error.downcast_ref::<Elapsed>().expect("a timeout");
//! assert_eq!(elapsed.limit(), Duration::from_millis(200));
//! assert!(!elapsed.is_deadline());
//! # Ok(())
//! # }
//! ```
//!
//! # Back pressure, not shedding
//!
//! The layer passes the inner service's back pressure through: its
//! `poll_ready` is `Pending` exactly while the inner service's is, and the
//! inner service wakes the task. A ready timeout bounds that wait with a
//! timer the service owns; when it runs out, `poll_ready` returns
//! [`Elapsed`](error::Elapsed) in [`Phase::Ready`](error::Phase::Ready).
//! The service is not broken by that error: the next `poll_ready` starts a
//! new wait. The layer never sheds on its own account.
//!
//! # Deadlines
//!
//! `Timeout` serves any request type, but only some request types can carry
//! a [`Deadline`](seawall_core::Deadline). So the layer has a type parameter,
//! a [`DeadlineSource`](deadline::DeadlineSource), chosen with
//! [`deadline_from`](TimeoutBuilder::deadline_from):
//!
//! - [`IgnoreDeadline`](deadline::IgnoreDeadline), the default, reads
//!   nothing, at no cost, so `TimeoutLayer::new(limit)` works for every
//!   request type;
//! - with the `http` feature, `HttpExtensions` reads the `Deadline` from an
//!   `http::Request`'s extensions;
//! - any closure or function `Fn(&Req) -> Option<Deadline>` opts another
//!   request type in.
//!
//! A type parameter, rather than a trait every request type must implement,
//! keeps plain request types working (no impl is needed for them) and
//! leaves nothing to dispatch at run time. The cost is that reading a
//! deadline must be asked for: an HTTP server that wants its deadlines
//! honoured builds its layer with `.deadline_from(HttpExtensions)`.
//!
//! When the request is called, the timeout is the smaller of the layer's own
//! limit and the time left before the deadline, and an
//! [`Elapsed`](error::Elapsed) from the latter says so
//! ([`is_deadline`](error::Elapsed::is_deadline)). A request whose deadline
//! has already passed is not given to the inner service at all: its response
//! future resolves to `Elapsed` (with a limit of zero) on its first poll.
//! Admission still follows a successful `poll_ready`, as the tower contract
//! requires.
//!
//! # Cancel safety
//!
//! Dropping a [`ResponseFuture`](future::ResponseFuture) drops the inner
//! future, cancelling the call, and its timer; a dropped future is neither
//! counted nor logged as a timeout. Dropping the service drops its ready
//! timer. A caller that stops polling `poll_ready` while it is `Pending` and
//! comes back later continues the same wait, which started at the first
//! `Pending`.
//!
//! # Errors and responses
//!
//! Every error is a [`BoxError`](seawall_core::BoxError): either an
//! [`Elapsed`](error::Elapsed) from this layer, or the inner service's error
//! unchanged. Downcast to tell them apart, and read
//! [`phase`](error::Elapsed::phase) to know which wait ran out.
//! `seawall-http`'s error-response layer turns an `Elapsed` into a 503 or
//! 504 response; by hand, the choice looks like this:
//!
//! ```
//! use seawall_core::BoxError;
//! use seawall_timeout::error::{Elapsed, Phase};
//!
//! fn status_for(error: &BoxError) -> u16 {
//!     match error.downcast_ref::<Elapsed>() {
//!         // The service never took the request: try elsewhere or later.
//!         Some(elapsed) if elapsed.phase() == Phase::Ready => 503,
//!         // The request was taken but not answered in time.
//!         Some(_) => 504,
//!         None => 500,
//!     }
//! }
//!
//! let error: BoxError = Elapsed::new(Default::default(), Phase::Ready).into();
//! assert_eq!(status_for(&error), 503);
//! ```
//!
//! # Metrics and logs
//!
//! - `seawall_timeout_elapsed_total{name, phase}`: a counter of timeouts,
//!   `phase` being `ready` or `response`. Its handles are registered when the
//!   layer is built, so install the recorder before building layers.
//! - A `trace!` event under the target `seawall::timeout` for every timeout,
//!   with the fields `name`, `limit`, `phase` and `by_deadline`.
//!
//! # Limitations
//!
//! - The ready timeout cannot see a request's deadline: `poll_ready` runs
//!   before there is a request.
//! - Many callers treat an error from `poll_ready` as the end of the service
//!   (tower's `Buffer` fails every later request with it). Set a ready
//!   timeout only where the caller polls readiness again after an error,
//!   or where giving the service up is what you want.
//! - When a deadline has already passed, the inner service's readiness is
//!   not consumed: tower offers no way to hand a reservation back other than
//!   `call` or drop, so the inner service stays ready for the next request.
//! - The response timeout ends when the response future resolves. For HTTP
//!   that is when the head arrives; the body is not bounded.
//! - Tokio's timers tick in milliseconds, so a limit is rounded up to the
//!   next millisecond.
//!
//! # Features
//!
//! - `http`: `HttpExtensions`, which reads the deadline from an
//!   `http::Request`'s extensions.

mod builder;
pub mod deadline;
pub mod error;
pub mod future;
mod layer;
mod limit;
mod ready;
mod service;
mod shared;

pub use builder::TimeoutBuilder;
pub use layer::TimeoutLayer;
pub use service::Timeout;

//! Load shedding for tower services: refuse work early, at a concurrency
//! limit learned from the service's own latency, instead of letting it
//! queue until every caller times out.
//!
//! A [`ShedLayer`] admits calls up to a limit shared by every service it
//! builds. The limit is not configured: a [`limit::LimitAlgorithm`] learns
//! it from each finished call's latency, concurrency and outcome (by
//! default a [`limit::Gradient`], which backs off when recent latency
//! rises above the service's baseline). A call over the limit is refused
//! at once with [`Overloaded`], which carries a `retry_after` and which
//! seawall-http answers with `503 Service Unavailable` and `Retry-After`;
//! or, with a queue, it waits a short, bounded time for a slot.
//!
//! ```
//! use std::time::Duration;
//! use seawall_shed::{Overloaded, ShedLayer};
//! use seawall_shed::limit::Fixed;
//! use tower::{service_fn, Service, ServiceExt};
//! use tower_layer::Layer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), seawall_core::BoxError> {
//! // A fixed limit of 1 here, to show a refusal; leave `algorithm` out to
//! // learn the limit.
//! let layer = ShedLayer::builder()
//!     .name("api")
//!     .algorithm(Fixed::new(1)?)
//!     .retry_after(Duration::from_secs(2))
//!     .build()?;
//! let handle = layer.handle();
//! let mut first = layer.layer(service_fn(|n: u32| async move { Ok::<_, std::io::Error>(n * 2) }));
//! let mut second = first.clone();
//!
//! // The first call holds the only slot until its future is done.
//! let pending = first.ready().await?.call(21);
//! assert_eq!(handle.in_flight(), 1);
//!
//! // So the second is shed, without reaching the inner service.
//! let error = second.ready().await?.call(1).await.unwrap_err();
//! let refusal = error.downcast_ref::<Overloaded>().expect("shed");
//! assert_eq!(refusal.limit(), 1);
//! assert_eq!(handle.shed(), 1);
//!
//! assert_eq!(pending.await?, 42);
//! assert_eq!(handle.in_flight(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Shedding or back pressure
//!
//! The [`Shed`] service **sheds**: it is always ready, and a call over the
//! limit fails in its response future. This is what a server wants: axum
//! and hyper assume services are always ready, and a fast `503` lets the
//! client, or its load balancer, go elsewhere while the server keeps
//! serving what it admitted at full speed. **Servers stack the shedding
//! layer.**
//!
//! The [`BackPressure`] service, built by
//! [`Builder::build_back_pressure`], **applies back pressure**: its
//! `poll_ready` returns `Pending` until a slot frees, woken by the release
//! of the slot itself, with no timer and no busy polling. This is what a
//! client or a pipeline stage wants: a producer that calls `ready().await`
//! slows down to the rate the downstream sustains, and nothing is thrown
//! away. Its wait has no bound of its own; bound it with a timeout outside
//! (seawall-timeout's `Timeout` covers the wait for readiness). For a
//! client, a loss-based [`limit::Aimd`] is usually the better algorithm:
//! it backs off on timeouts and on the upstream's own refusals.
//!
//! # Layer order
//!
//! In a server, outer to inner: error responses (seawall-http's
//! `ErrorResponseLayer`, so that [`Overloaded`] becomes a `503`), the
//! health endpoint, the rate limit, **the shedder**, the bulkhead, the
//! timeout, the application. The shedder goes outside the timeout so that
//! a call cut short by the timeout reaches it as a timeout, which counts
//! as a loss, and so that the latency it learns from is the whole call's.
//! It goes inside the rate limit, which refuses per client before any
//! capacity is spent. Another layer's local refusal (a bulkhead's
//! `BulkheadFull`) teaches it nothing: it is not recorded.
//!
//! # Slots and samples
//!
//! A slot is reserved by `poll_ready` (which then passes on the inner
//! service's own readiness) and held until the response future completes
//! or is dropped. A service that reserved a slot and is dropped (or
//! unwrapped with `into_inner`) gives it back. Clones share the limit but
//! start unreserved, and every service built by one layer, through any
//! number of [`Layer::layer`](tower_layer::Layer::layer) calls, shares the
//! same limit: the state lives in the layer, so the limit holds across
//! axum's per-connection services.
//!
//! When a call finishes, the [`Classify`](seawall_core::Classify) given to
//! [`Builder::classifier`] (by default
//! [`DefaultClassifier`](seawall_core::DefaultClassifier)) judges its
//! result, with the error already boxed, and the algorithm gets a
//! [`limit::Sample`]: the latency from the call to its response, the calls
//! in flight when it was admitted, and whether it was a loss (classified as
//! a timeout, or as refused by the upstream, such as a `503` with
//! `Retry-After` under seawall-http's `HttpClassifier`). An ignored call (a
//! local refusal by another seawall layer) and a cancelled one (its future
//! dropped) are not recorded.
//!
//! # The queue
//!
//! With [`Builder::queue`], a call over the limit waits for a slot instead
//! of being refused, unless the queue is full. It waits at most the
//! queue's `max_wait`, and never past its own overall
//! [`Deadline`](seawall_core::Deadline), read with
//! [`Builder::deadline_from`] (see [`deadline`]): a request whose deadline
//! has passed is dropped without running, since nobody waits for its
//! answer any more, and fails with an [`Overloaded`] whose
//! [`waited`](Overloaded::waited) says how long it queued. A freed slot
//! goes straight to a waiter; while anyone waits, newcomers queue behind
//! them rather than take a slot first.
//!
//! The queue is served in [`QueueOrder::AdaptiveLifo`] order by default:
//! oldest first while it is less than half full, newest first from then
//! on. Under overload the oldest waiters are the likeliest to have been
//! abandoned by their callers, so serving the newest keeps goodput up
//! while the oldest run out their deadlines. A queued request runs on a
//! clone of the inner service, so [`Shed`] needs the inner service to be
//! `Clone`, and its timer is a Tokio `Sleep`: no task is spawned and
//! nothing polls.
//!
//! The queue is meant to be short: it absorbs bursts of a few round trips
//! of the service, not sustained overload, which the learned limit sheds.
//!
//! # Shadow mode
//!
//! With [`Builder::shadow`], or [`ShedHandle::set_enforced`] at run time,
//! the shedder learns its limit and computes every decision but enforces
//! none: calls over the limit are admitted and counted
//! ([`ShedHandle::shadow_shed`], `seawall_shed_shadow_rejected_total`), and
//! nothing waits. Roll it out in shadow mode, watch what it would have
//! shed, then enforce. Entering shadow mode lets every waiting request
//! through at once.
//!
//! # Cancel safety
//!
//! Dropping a response future gives its slot back at once, or takes a
//! queued request out of the queue (a slot granted to it meanwhile goes on
//! to the next waiter); so does dropping a service that holds a
//! reservation or waits for a slot. No path leaks a slot. A dropped call is
//! neither a refusal nor a sample.
//!
//! # Errors
//!
//! A refusal is an [`Overloaded`] inside the service's `BoxError`: match it
//! with `error.is::<Overloaded>()` or `downcast_ref`, or generically with
//! `seawall_core::rejection::find` (its pattern is
//! [`Pattern::LoadShed`](seawall_core::rejection::Pattern::LoadShed)). It
//! carries the limit in force, the time queued, and the
//! [`retry_after`](Builder::retry_after) hint (1 second unless
//! configured). seawall-http's error response layer turns it into
//! `503 Service Unavailable` with a `Retry-After` header. Errors of the
//! inner service, and of its readiness, pass through unchanged; a failed
//! readiness gives the slot back.
//!
//! # Observability
//!
//! Built layers register, labelled `name`, the gauges
//! `seawall_shed_limit`, `seawall_shed_in_flight` and
//! `seawall_shed_queue_len`, the counter `seawall_shed_rejected_total`
//! with a `reason` label (`limit`, `queue_full`, `expired`), and the
//! counter `seawall_shed_shadow_rejected_total`; install the metrics
//! recorder before building. Under the target `seawall::shed`, each
//! refusal is logged at `trace`, and the limit at `debug` whenever it has
//! moved 10% or more since it was last logged.
//!
//! With [`Builder::health`] the shedder reports, as a component of kind
//! `"load_shed"`, its `limit`, `in_flight`, `queue_len`, the `shed` and
//! `shadow_shed` counts, its `algorithm` and whether it is `enforced`. The
//! status is `warn` while every slot is taken or anyone waits in the queue:
//! the shedder is shedding, or about to. By default it is never `fail`,
//! and the component is not critical for readiness: shedding is the
//! shedder working, and taking an overloaded instance out of rotation would
//! only move its load onto the others. Where the fleet has headroom,
//! [`Builder::fail_readiness_while_shedding`] makes it critical and
//! failing from each refusal until a hold passes without one.
//!
//! # Limitations
//!
//! - The algorithm sits behind a mutex taken once per finished call. It is
//!   held only to update the algorithm, and a successful call that finds it
//!   held skips its sample rather than wait (a loss waits its turn), so
//!   under heavy concurrency the algorithm sees a subset of the successes.
//!   A [`limit::Fixed`] limit learns nothing and is never fed: its calls
//!   read no clock and take no lock.
//! - The limit learns from the calls it admits. A service that is idle, or
//!   app-limited, keeps its limit (the algorithms do not grow it), so the
//!   first burst after a long quiet spell meets the limit of before.
//! - A queued request runs on a clone of the inner service made when it
//!   joined the queue, so [`Shed`] requires `S: Clone`, and each queued
//!   request allocates once (its timer, service and request).
//! - The queue's adaptive order switches on the queue's length only; it
//!   does not look at how long the oldest waiter has waited.
//! - The queue and back pressure run their timer and waker on Tokio; the
//!   queue needs a Tokio runtime with the time driver. Shedding without a
//!   queue reads `tokio::time::Instant` only.
//! - Back-pressure waiters are not bounded by the shedder: there is at most
//!   one per waiting service, so their number is the caller's. Bound the
//!   wait with a timeout outside.
//! - In shadow mode a request over the limit is counted as one that would
//!   have been shed even where enforcing would have queued it.
//! - A slot covers a call until its response arrives, not while an HTTP
//!   response body streams afterwards, and the latency sampled ends there
//!   too. Where streaming bodies must be bounded, put seawall-bulkhead's
//!   HTTP variant, which holds its permit until the body ends, below the
//!   shedder.
//! - The health report and the handle read counters one after another,
//!   not a snapshot.

mod back_pressure;
mod builder;
mod health;
mod layer;
mod lease;
mod limiter;
mod queue;
mod service;
mod shared;
mod slot;

pub mod deadline;
pub mod error;
pub mod future;
pub mod limit;

pub use back_pressure::BackPressure;
pub use builder::{Builder, DEFAULT_RETRY_AFTER, MAX_QUEUE_CAPACITY};
pub use error::{ConfigError, Overloaded};
pub use layer::{BackPressureLayer, ShedHandle, ShedLayer};
pub use limit::{Aimd, Fixed, Gradient, LimitAlgorithm, Sample};
pub use queue::QueueOrder;
pub use service::Shed;

//! A bulkhead for tower services: a fixed number of permits shared by every
//! service a layer builds, so that one slow dependency or one greedy tenant
//! cannot take every worker, connection or buffer with it.
//!
//! Put a [`BulkheadLayer`] in front of the work whose concurrency must be
//! bounded: a handler that calls a slow upstream, a client of a small
//! connection pool, a route that is expensive to serve. Each call holds a
//! permit; when all `max_in_flight` permits are out, a new request is refused
//! with [`BulkheadFull`] or, in waiting mode, waits a bounded time for one.
//!
//! ```
//! use std::time::Duration;
//! use seawall_bulkhead::{BulkheadFull, BulkheadLayer};
//! use tower::{service_fn, Service, ServiceExt};
//! use tower_layer::Layer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), seawall_core::BoxError> {
//! let layer = BulkheadLayer::builder()
//!     .name("reports")
//!     .max_in_flight(1)
//!     .retry_after(Duration::from_secs(5))
//!     .build()?;
//! let handle = layer.handle();
//! let mut first = layer.layer(service_fn(|n: u32| async move { Ok::<_, std::io::Error>(n * 2) }));
//! let mut second = first.clone();
//!
//! // The first call holds the only permit until its future is done.
//! let pending = first.ready().await?.call(21);
//! assert_eq!(handle.in_flight(), 1);
//!
//! // So the second is refused, without reaching the inner service.
//! let error = second.ready().await?.call(1).await.unwrap_err();
//! let full = error.downcast_ref::<BulkheadFull>().expect("a bulkhead refusal");
//! assert_eq!(full.max_in_flight(), 1);
//!
//! assert_eq!(pending.await?, 42);
//! assert_eq!(handle.in_flight(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Shedding or back pressure
//!
//! By default the bulkhead **sheds**: its service is always ready. Admission
//! is decided in `poll_ready`, before the inner service is touched: with a
//! free permit, `poll_ready` reserves it and only then polls the inner
//! service's readiness; without one, `poll_ready` still returns
//! `Ready(Ok(()))` and the next `call` returns a future that fails at once
//! with [`BulkheadFull`], never calling the inner service. This suits axum and
//! hyper, which assume services are always ready.
//!
//! With [`Builder::wait`] the bulkhead applies **back pressure**:
//! `poll_ready` returns `Pending` until a permit is freed, woken by the
//! release itself (no timer polling), for at most the configured bound. When
//! the bound passes, `poll_ready` returns `Ready(Ok(()))` and the next `call`
//! fails with a [`BulkheadFull`] whose [`waited`](BulkheadFull::waited) says
//! how long it waited. The service is not broken by a timeout: the next
//! `poll_ready` starts a fresh wait. A waiting service counts in
//! [`BulkheadHandle::waiting`] and is woken, with every other waiter, each
//! time a permit is freed.
//!
//! # Permits
//!
//! A permit is reserved by `poll_ready` and held until the response future
//! completes or is dropped. A service that reserved a permit and is dropped
//! (or unwrapped with `into_inner`) before calling gives it back. Clones share
//! the bulkhead but start unreserved, and every service built by one layer,
//! through any number of [`Layer::layer`](tower_layer::Layer::layer) calls,
//! draws on the same permits: the state lives in the layer, so the limit
//! holds across axum's per-connection services.
//!
//! With the `http` feature, `BulkheadLayer::into_http` gives an
//! `HttpBulkheadLayer` whose `HttpBulkhead` services answer
//! `http::Response<PermitBody<B>>`: the `body::PermitBody` keeps
//! the permit until the body ends, fails or is dropped, so a response that
//! streams for a minute occupies its permit for that minute.
//!
//! # Partitions
//!
//! A bulkhead of capacity `C` may be split into named partitions, such as
//! tenants or routes, each with `g` guaranteed permits (the sum of the `g`
//! at most `C`) and optionally a ceiling of its own. The guaranteed permits
//! form each partition's reserve; the remaining `C - sum(g)` form a pool
//! shared first come, first served. A request of a partition takes from its
//! reserve first and borrows from the pool when the reserve is used up, so
//! a partition always gets its guaranteed share however busy the others are,
//! and uses idle capacity when there is some. A request whose key names no
//! partition uses the pool alone. A refusal names the partition, and each
//! permit goes back where it came from.
//!
//! ```
//! use seawall_bulkhead::BulkheadLayer;
//!
//! struct Job {
//!     tenant: &'static str,
//! }
//!
//! // 10 permits: 4 kept for gold, 2 for silver, 4 for anyone.
//! let layer = BulkheadLayer::builder()
//!     .max_in_flight(10)
//!     .partition("gold", 4)
//!     .partition_with_max("silver", 2, 5)
//!     .partition_key(|job: &Job| Some(job.tenant))
//!     .build()?;
//! # let _ = layer;
//! # Ok::<(), seawall_bulkhead::ConfigError>(())
//! ```
//!
//! The key is read from the request, which only `call` sees, so a
//! partitioned bulkhead decides admission in `call`: its `poll_ready` polls
//! the inner service without holding a permit, and a refused request leaves
//! the inner service ready but uncalled. The key is borrowed from the request
//! and found among the partitions by binary search, without allocating.
//!
//! # Cancel safety
//!
//! Dropping the response future gives its permit back at once; so does
//! dropping a service that holds a reservation or is waiting, and, for the
//! HTTP variant, dropping the response body. No path leaks a permit. A
//! dropped call is not counted as a refusal.
//!
//! # Errors
//!
//! A refusal is a [`BulkheadFull`] inside the service's `BoxError`: match it
//! with `error.is::<BulkheadFull>()` or `downcast_ref`, or generically with
//! `seawall_core::rejection::find`. It carries `max_in_flight`, the partition,
//! the time waited and the [`retry_after`](Builder::retry_after) hint
//! (1 second unless configured). seawall-http's error response layer turns it
//! into `503 Service Unavailable` with a `Retry-After` header. Errors of the
//! inner service pass through unchanged.
//!
//! # Observability
//!
//! Built layers register the gauge `seawall_bulkhead_in_flight` and the
//! counter `seawall_bulkhead_rejected_total`, both labelled `name`; install
//! the metrics recorder before building. Each refusal is logged at `trace`
//! under the target `seawall::bulkhead`. With [`Builder::health`] the
//! bulkhead reports its occupancy as a health component of kind
//! `"bulkhead"`, in state `warn` while every permit is taken; the
//! component stays in the registry while the layer, one of its services or
//! a handle is alive.
//!
//! # Limitations
//!
//! - Waiting and partitions cannot be combined: the partition is known only
//!   in `call`, and a wait in `poll_ready` cannot know which reserve to wait
//!   for. [`Builder::build`] reports the combination as an error.
//! - Waiting mode runs its timer on Tokio: a service that must wait panics
//!   outside a Tokio runtime with the time driver enabled. Reject mode needs
//!   no runtime.
//! - Waiters are not served in order: every release wakes every waiter, and
//!   the first to poll takes the permit. Under a long queue of waiters each
//!   release costs a wake-up per waiter; keep the wait bound short.
//! - A service allocates once, the first time it waits, to hold its timer,
//!   and each refusal allocates its boxed error. An admitted request
//!   allocates nothing.
//! - A partitioned request that borrowed from the pool keeps its borrowed
//!   permit even if its partition's reserve frees up meanwhile.
//! - The occupancy a [`BulkheadHandle`] or the health report reads is a sum
//!   of counters read one after another, not a snapshot.
//! - A permit that goes back leaves its reference to the bulkhead with its
//!   thread, for the next permit that thread takes (this saves two locked
//!   instructions per request). So a dropped bulkhead's memory (its
//!   counters, settings and metric handles) can outlive it until that
//!   thread gives back a permit of another bulkhead or exits: at most one
//!   bulkhead per thread.

mod builder;
mod gate;
mod key;
mod layer;
mod lease;
mod limiter;
mod service;
mod shared;
mod sync;
mod wait;

#[cfg(feature = "http")]
pub mod body;
pub mod error;
pub mod future;
#[cfg(feature = "http")]
mod http_service;

pub use builder::{Builder, DEFAULT_RETRY_AFTER};
pub use error::{BulkheadFull, ConfigError};
#[cfg(feature = "http")]
pub use http_service::{HttpBulkhead, HttpBulkheadLayer};
pub use key::{NoPartitionKey, PartitionKey};
pub use layer::{BulkheadHandle, BulkheadLayer};
pub use service::Bulkhead;

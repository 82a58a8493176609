//! A circuit breaker for tower services.
//!
//! A breaker watches the calls to one upstream and, when too many of them
//! fail or are slow, stops calling it for a while: callers get an immediate
//! [`CircuitOpen`](error::CircuitOpen) instead of waiting on a dependency
//! that is down, and the dependency gets room to recover. Put it on the
//! client side, around each upstream, inside the retry layer and outside
//! the per-attempt timeout (whose [`Elapsed`](seawall_core::rejection::Elapsed)
//! it counts as a timeout failure).
//!
//! ```
//! use std::time::Duration;
//! use seawall_breaker::error::{BoxError, CircuitOpen};
//! use seawall_breaker::{BreakerConfig, BreakerState, CircuitBreakerLayer};
//! use seawall_core::Rejection;
//! use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let layer = CircuitBreakerLayer::new(
//!     BreakerConfig::builder()
//!         .name("inventory")
//!         .consecutive_failures(3)
//!         .open_duration(Duration::from_secs(10))
//!         .build()?,
//! );
//! let handle = layer.handle();
//! let upstream = service_fn(|_: ()| async { Err::<(), BoxError>("connection refused".into()) });
//! let mut inventory = ServiceBuilder::new().layer(layer).service(upstream);
//!
//! for _ in 0..3 {
//!     let error = inventory.ready().await?.call(()).await.unwrap_err();
//!     assert_eq!(error.to_string(), "connection refused"); // passed through
//! }
//! assert_eq!(handle.state(), BreakerState::Open);
//!
//! let error = inventory.ready().await?.call(()).await.unwrap_err();
//! let open = error.downcast_ref::<CircuitOpen>().expect("refused by the breaker");
//! assert!(open.retry_after().unwrap() <= Duration::from_secs(10));
//! # Ok(())
//! # }
//! ```
//!
//! # States
//!
//! ```text
//!                 threshold reached
//!   +--------+ -----------------------> +------+ <--- Retry-After
//!   | Closed |                          | Open |
//!   +--------+ <---+                    +------+
//!                  |                     |    ^
//!    enough probes |   first call after  |    | too many probes failed,
//!    succeeded     |   the open period   v    | or no verdict in time
//!                  |                 +----------+
//!                  +---------------- | HalfOpen |
//!                                    +----------+
//!
//!   operator states, left only through the handle:
//!     ForcedOpen   refuses every call
//!     Disabled     admits every call, records nothing
//!     MetricsOnly  admits every call, records it, says where it would open
//! ```
//!
//! - **Closed.** Calls go through; each finished call is recorded in the
//!   window: the last N calls ([`count_window`]) or the calls of the last T
//!   in buckets ([`time_window`]). The breaker trips when any enabled
//!   trigger fires: the failure rate, the slow-call rate (calls over
//!   [`slow_call_duration`]), both once the window holds
//!   [`minimum_calls`]; or N failures in a row. Outcomes come from a
//!   [`Classify`](seawall_core::Classify); with the [`DefaultClassifier`]
//!   every error is a failure, a timeout too, and another seawall layer's
//!   local refusal (a full bulkhead) is ignored.
//! - **Open.** Calls are refused until the open period ends. Nothing runs
//!   on a timer: the first call after that turns the breaker half-open.
//! - **Half-open.** At most [`half_open_probes`] probes go through, never
//!   more at a time. The breaker closes as soon as enough of them succeed
//!   ([`half_open_success_ratio`] of the probes) and opens again as soon as
//!   that can no longer happen, or when no verdict has come within
//!   [`half_open_timeout`]. A probe that is cancelled, or whose result is
//!   ignored, gives its slot back; other calls are refused meanwhile.
//!
//! Rates are compared in parts per million: a rate of 0.5 trips at exactly
//! half. [`BreakerStats`] and the health report show the state the next
//! call would find, so an idle breaker whose open period is over reads
//! half-open.
//!
//! # Open duration and backoff
//!
//! For the n-th trip in a row (n = 1 for the first trip after the breaker
//! was closed; a trip is a threshold, failed probes or a half-open timeout):
//!
//! ```text
//! nominal(n) = min(max_open_duration, open_duration × multiplier^(n−1))
//! open(n)    = nominal(n) × (1 − open_jitter × u),  u uniform in [0, 1)
//! ```
//!
//! Jitter only shortens the period, so it never passes `max_open_duration`.
//! By default `max_open_duration` equals `open_duration` and there is no
//! jitter: every period is `open_duration`. When the classifier reads a
//! `Retry-After` from the upstream's answer
//! ([`Classify::retry_after`](seawall_core::Classify::retry_after)), the
//! breaker opens until then, at most [`max_retry_after`] ahead, whatever its
//! thresholds say; this neither grows nor resets the backoff.
//!
//! # Back pressure or shed
//!
//! The breaker sheds. When it refuses, `poll_ready` is ready at once
//! without touching the inner service, and the response future fails on
//! its first poll with [`CircuitOpen`](error::CircuitOpen); the inner
//! service never sees the request. When it admits, `poll_ready` polls the
//! inner service and passes its back pressure on, holding the admission
//! (for a half-open probe, its slot) while it waits.
//!
//! # Cancel safety
//!
//! Dropping a response future before it completes records the call as
//! cancelled: it counts neither for nor against the upstream, and a
//! half-open probe gives its slot back. Dropping a service that had been
//! made ready releases its admission the same way.
//!
//! # Errors
//!
//! The service's error is [`BoxError`](error::BoxError). A refusal is a
//! [`CircuitOpen`](error::CircuitOpen), found with
//! `error.is::<CircuitOpen>()` or
//! [`seawall_core::rejection::find`]; its `retry_after()` is the time until
//! the next probe is allowed (for a half-open breaker with every slot taken,
//! and for a forced one, the base open duration). `seawall-http` turns it
//! into a 503 with `Retry-After`. The inner service's errors pass through
//! unchanged.
//!
//! # Operators
//!
//! [`CircuitBreakerLayer::handle`] gives a cloneable [`BreakerHandle`]: read
//! the state and [`BreakerStats`]; [`force_open`](BreakerHandle::force_open),
//! [`force_closed`](BreakerHandle::force_closed),
//! [`disable`](BreakerHandle::disable),
//! [`metrics_only`](BreakerHandle::metrics_only) (shadow mode, to try
//! thresholds on live traffic) and [`reset`](BreakerHandle::reset).
//! [`CircuitBreakerLayer::with_health`] registers the breaker in a
//! [`HealthRegistry`](seawall_core::health::HealthRegistry) (kind
//! `"circuit_breaker"`: `fail` while open, `warn` while half-open).
//!
//! # Observability
//!
//! Under the tracing target `seawall::breaker`: a `debug!` event for each
//! transition, with `name`, `from`, `state`, `cause`, `failure_rate`,
//! `slow_rate` and `retry_after`; a `trace!` event for each refused call.
//! Metrics, registered when the breaker is built, all labelled `name`:
//! `seawall_breaker_calls_total{outcome}`, `seawall_breaker_rejected_total`,
//! and the gauges `seawall_breaker_state` (0 closed, 1 half-open, 2 open,
//! 3 forced open, 4 disabled, 5 metrics-only) and
//! `seawall_breaker_failure_rate`.
//!
//! # Performance
//!
//! The closed path takes no lock, spawns nothing, allocates nothing and
//! reads no clock unless the configuration needs the time (a time window, a
//! slow-call threshold, a classifier that reads `elapsed`). Admission is one
//! atomic load. Recording a success in a count window full of successes is
//! one more load; any other call takes a slot with one `fetch_add`, and one
//! that changes the window's counts adds a swap and a `fetch_add`.
//!
//! The response future may outlive its service, so each admitted call
//! holds a counted reference to the breaker. Rather than clone one when a
//! call is admitted and drop it when the call ends (two locked
//! instructions, most of the path's cost where those are slow), a call
//! that ends leaves its reference as its thread's spare, and the next call
//! that thread admits through the same breaker takes it: a stream of calls
//! on one thread touches no reference count. A spare can keep one
//! breaker's memory per thread after its layer and services are gone (see
//! Limitations); it never keeps a health entry. Transitions take a short
//! lock. The atomics are modelled with loom
//! in `tests/loom.rs`; from the workspace root (a few seconds once built,
//! the three-thread models bounded to three preemptions unless
//! `LOOM_MAX_PREEMPTIONS` says otherwise):
//!
//! ```text
//! RUSTFLAGS="--cfg seawall_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p seawall-breaker --release --test loom
//! ```
//!
//! # Keyed breakers
//!
//! A client that calls many hosts wants one breaker per host, so that one
//! failing host is cut off while the others are still called.
//! [`KeyedCircuitBreakerLayer`] keeps one [`Breaker`] per key in a bounded
//! map: a [`KeyExtractor`] finds a request's key (a closure, or with the
//! `http` feature `AuthorityKey`, which borrows the URI authority of an
//! `http::Request`), and each key's breaker is built from one template on
//! the key's first request, named `<name>/<key>` in its logs and in its
//! [`CircuitOpen`](error::CircuitOpen).
//!
//! ```
//! use seawall_breaker::error::{BoxError, CircuitOpen};
//! use seawall_breaker::{BreakerConfig, BreakerState, KeyedBreakerConfig, KeyedCircuitBreakerLayer};
//! use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let config = KeyedBreakerConfig::builder()
//!     .template(BreakerConfig::builder().name("hosts").consecutive_failures(2).build()?)
//!     .capacity(10_000)
//!     .build()?;
//! // The key is the host the request goes to.
//! let layer = KeyedCircuitBreakerLayer::new(config, |request: &(&'static str, u32)| request.0);
//! let handle = layer.handle();
//! let upstream = service_fn(|(host, _): (&'static str, u32)| async move {
//!     match host {
//!         "down.example" => Err::<&str, BoxError>("connection refused".into()),
//!         _ => Ok("hello"),
//!     }
//! });
//! let mut client = ServiceBuilder::new().layer(layer).service(upstream);
//!
//! for _ in 0..2 {
//!     client.ready().await?.call(("down.example", 1)).await.unwrap_err();
//! }
//! let error = client.ready().await?.call(("down.example", 1)).await.unwrap_err();
//! let open = error.downcast_ref::<CircuitOpen>().expect("refused by the breaker");
//! assert_eq!(open.name(), Some("hosts/down.example"));
//!
//! // The other host is still called.
//! assert_eq!(client.ready().await?.call(("up.example", 1)).await?, "hello");
//! assert_eq!(handle.get("down.example").unwrap().state(), BreakerState::Open);
//! assert_eq!(handle.get("up.example").unwrap().state(), BreakerState::Closed);
//! # Ok(())
//! # }
//! ```
//!
//! The service waits for the inner service in `poll_ready`, and decides in
//! `call`, once the request shows its key; a refused call sheds as above.
//! [`KeyedCircuitBreakerLayer::handle`] gives a [`KeyedBreakerHandle`]:
//! the keys held with their states, one key's [`BreakerHandle`], and
//! [`force_open`](KeyedBreakerHandle::force_open) /
//! [`force_closed`](KeyedBreakerHandle::force_closed) by key.
//! [`KeyedCircuitBreakerLayer::with_health`] registers one health component
//! for the whole layer (kind `"keyed_circuit_breaker"`: `keys`, `open`,
//! `half_open`; `warn` while some key is open or half-open, `fail` when
//! all are open), not one per key.
//!
//! ## Eviction
//!
//! The map holds at most [`capacity`](KeyedBreakerConfigBuilder::capacity)
//! keys. Adding a key to a full map first evicts, by itself, during that
//! insert (no task runs in the background):
//!
//! 1. idle keys first: those whose breaker admits calls (closed, or an
//!    operator's disabled or metrics-only) and is not in use (no call in
//!    flight, no [`BreakerHandle`] held), the least recently used first,
//!    up to 1/16 of a shard's keys at once so that the search is paid for
//!    once per batch;
//! 2. if there is none, one key whose breaker admits calls but is in use
//!    (calls in flight finish on the breaker they started with);
//! 3. only if every key is open, half-open or forced open, the least
//!    recently used of those.
//!
//! A tripped breaker goes last because it is what keeps traffic off a
//! failing host: evicting it would let the next request for that host
//! through a fresh, closed breaker. "Recently used" counts lookups by
//! calls (not by the operator handle) between inserts.
//!
//! ## Speed and metrics
//!
//! The map is split into up to 16 shards, each a `std::sync::RwLock`
//! around a `HashMap`. Finding a held key hashes it once (SipHash with a
//! random seed, so chosen keys cannot pile up), takes its shard's read
//! lock, compares the key (kept in the bucket itself up to 30 bytes) and
//! clones the breaker's `Arc`: it allocates nothing, and readers do not
//! wait for each other. Only adding a key takes a write lock. (The rule
//! that the closed path takes no lock is about one breaker; the map is a
//! lookup in front of it.) With many keys the cost is memory more than
//! code: a call to a host whose breaker has left the cache waits for a few
//! cache lines (the breaker keeps what its closed path reads together).
//!
//! A key's breaker registers no metrics of its own: every key shares the
//! layer's handles, labelled `name` = the template's name, so many hosts
//! make no more series than one. Besides the calls and rejections above,
//! the gauges `seawall_breaker_keys` (keys held) and
//! `seawall_breaker_keys_open` (keys open, half-open or forced open), and
//! the counter `seawall_breaker_evictions_total`; there is no per-key
//! state or failure-rate gauge.
//!
//! # Limitations
//!
//! - Keyed breakers: least recently used means within one shard (a map
//!   of 512 keys or more has several, and looks in the inserting key's
//!   shard first), and recency is counted in inserts, not time. Keys are
//!   evicted only to make room: an idle key stays until then. While no
//!   held key is idle, each insert looks through every shard. Keys are
//!   compared as written (no case folding), and each costs about 1.8 KB
//!   with the default window of 100 calls. A closure extractor returns an
//!   owned key, which may allocate per call; implement [`KeyExtractor`]
//!   to borrow it from the request. A [`BreakerHandle`] to a key that is
//!   later evicted controls a breaker the layer no longer uses.
//! - Under concurrency the window's counts are approximate in small ways: a
//!   call that ends while the window is cleared or a time bucket expires
//!   may land in the new window or be lost with the old bucket; a call that
//!   ends while another is still expiring a bucket may count that bucket
//!   one last time; and a time window's three counts are read one by one.
//!   Counts never drift, and no trip is lost: every value the counters take
//!   is judged by the call that made it.
//! - A time window is judged only when a call is recorded; after a quiet
//!   spell the old buckets leave it with the next call.
//! - Metrics-only mode judges thresholds only: it does not play out the
//!   open and half-open periods that would have followed.
//! - A thread's spare reference (see Performance) keeps its breaker's
//!   memory, at most one breaker per thread, after the layer, services and
//!   handles that used it are gone, until that thread ends a call through
//!   another breaker or exits. The health entry a layer registers goes
//!   with them regardless; a breaker registered by hand with
//!   [`Breaker::register_health`] before its first call is never kept as a
//!   spare. Keyed breakers
//!   and [`Permit`]s clone and drop their reference instead.
//! - A call admitted while closed and still running when the breaker trips
//!   is not counted (its outcome belongs to a period that is over).
//! - A probe slot is held while the inner service is not ready; the
//!   half-open timeout still ends the period.
//! - Count windows hold at most 1,000,000 calls, time windows at most 1,000
//!   buckets of at least 1 ms, and a half-open period at most 1,023 probes.
//!
//! [`count_window`]: BreakerConfigBuilder::count_window
//! [`time_window`]: BreakerConfigBuilder::time_window
//! [`slow_call_duration`]: BreakerConfigBuilder::slow_call_duration
//! [`minimum_calls`]: BreakerConfigBuilder::minimum_calls
//! [`half_open_probes`]: BreakerConfigBuilder::half_open_probes
//! [`half_open_success_ratio`]: BreakerConfigBuilder::half_open_success_ratio
//! [`half_open_timeout`]: BreakerConfigBuilder::half_open_timeout
//! [`max_retry_after`]: BreakerConfigBuilder::max_retry_after
//! [`DefaultClassifier`]: seawall_core::DefaultClassifier

mod backoff;
mod breaker;
mod config;
pub mod error;
pub mod future;
mod handle;
mod health;
mod keyed;
mod layer;
mod lease;
mod permit;
mod probes;
mod record;
mod service;
mod state;
mod sync;
mod telemetry;
mod transition;
mod window;

pub use breaker::Breaker;
pub use config::{BreakerConfig, BreakerConfigBuilder, Window};
pub use handle::{BreakerHandle, BreakerStats};
pub use health::HEALTH_KIND;
#[cfg(feature = "http")]
pub use keyed::AuthorityKey;
pub use keyed::{
    KeyExtractor, KeyedBreakerConfig, KeyedBreakerConfigBuilder, KeyedBreakerHandle,
    KeyedCircuitBreaker, KeyedCircuitBreakerLayer, KEYED_HEALTH_KIND,
};
pub use layer::CircuitBreakerLayer;
pub use permit::Permit;
pub use service::CircuitBreaker;
pub use state::BreakerState;

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
//! that changes the window's counts adds a swap and a `fetch_add`. Beyond
//! that, the response future holds a reference to the service's own handle
//! on the breaker (one increment, one decrement); each service that
//! `Layer::layer` builds gets its own handle, shared with its clones, so
//! services on different threads do not bump one shared count. Transitions
//! take a short lock. The atomics are modelled with loom
//! in `tests/loom.rs`; from the workspace root (a few seconds once built,
//! the three-thread models bounded to three preemptions unless
//! `LOOM_MAX_PREEMPTIONS` says otherwise):
//!
//! ```text
//! RUSTFLAGS="--cfg seawall_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p seawall-breaker --release --test loom
//! ```
//!
//! # Limitations
//!
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
//! - A call admitted while closed and still running when the breaker trips
//!   is not counted (its outcome belongs to a period that is over).
//! - A probe slot is held while the inner service is not ready; the
//!   half-open timeout still ends the period.
//! - Count windows hold at most 1,000,000 calls, time windows at most 1,000
//!   buckets of at least 1 ms, and a half-open period at most 1,023 probes.
//! - One breaker guards one upstream; per-host breakers are not in this
//!   crate yet.
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
mod layer;
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
pub use layer::CircuitBreakerLayer;
pub use permit::Permit;
pub use service::CircuitBreaker;
pub use state::BreakerState;

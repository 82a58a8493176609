//! Rate limits for tower services, with the generic cell rate algorithm
//! (GCRA): a sustained rate plus a burst, one limit for the whole layer or
//! one per key, with bounded memory; and a governor that paces automated
//! actions.
//!
//! Put a [`RateLimitLayer`] where requests must be paced: in front of a
//! server's handlers, per client, so that one client cannot take the
//! capacity meant for all (it sheds, refusing at once with
//! [`RateLimited`]); or in front of a client of a rationed API, so that
//! the program slows down instead of being refused upstream (it waits).
//!
//! ```
//! use std::time::Duration;
//! use seawall_governor::{Quota, RateLimitLayer, RateLimited};
//! use tower::{service_fn, Service, ServiceExt};
//! use tower_layer::Layer;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), seawall_core::BoxError> {
//! // 2 requests a second, in bursts of at most 2.
//! let layer = RateLimitLayer::builder()
//!     .name("search")
//!     .quota(Quota::per_second(2).named("per-instance"))
//!     .build()?;
//! let mut service = layer.layer(service_fn(|n: u32| async move { Ok::<_, std::io::Error>(n) }));
//!
//! assert_eq!(service.ready().await?.call(1).await?, 1);
//! assert_eq!(service.ready().await?.call(2).await?, 2);
//!
//! // The burst is spent: the third is refused, without reaching the
//! // inner service, and told exactly when to come back.
//! let error = service.ready().await?.call(3).await.unwrap_err();
//! let limited = error.downcast_ref::<RateLimited>().expect("a rate limit refusal");
//! assert_eq!(seawall_core::Rejection::retry_after(limited), Some(Duration::from_millis(500)));
//! let policy = limited.policy().expect("the quota that refused");
//! assert_eq!((policy.name(), policy.limit(), policy.window()), ("per-instance", 2, Duration::from_secs(1)));
//!
//! tokio::time::advance(Duration::from_millis(500)).await;
//! assert_eq!(service.ready().await?.call(4).await?, 4);
//! # Ok(())
//! # }
//! ```
//!
//! # Quotas
//!
//! A [`Quota`] is a rate and a burst: `Quota::per_second(10)` replenishes
//! one request every 100 ms and allows 10 at once after a quiet second;
//! `.burst(n)` changes the burst alone. Each quota's whole state is one
//! atomic word, its theoretical arrival time (TAT), in nanoseconds since a
//! `tokio::time::Instant` taken when the layer is built: a request at `t`
//! conforms when `max(TAT, t) − t ≤ (burst − 1) × interval`, and moves TAT
//! to `max(TAT, t) + interval`. A check is one compare-and-swap. Time is
//! tokio's, so it is monotonic, and `tokio::time::pause` and `advance`
//! drive every limit in tests. The [`RateLimiter`] behind a layer can also
//! be used directly, with the time passed in.
//!
//! ## Why not the `governor` crate's engine
//!
//! The `governor` crate implements the same algorithm and is well kept; it
//! is the peer seawall's benches compare against. seawall keeps its own
//! small GCRA because it needs the state word itself:
//!
//! - **Time.** governor reads time through its own `Clock` trait, by
//!   default from the CPU's time-stamp counter, which some machines do not
//!   keep monotonic across cores; tokio's paused time cannot drive it.
//! - **Memory.** governor's keyed store keeps every key until someone
//!   calls `retain_recent()`. Here the keyed state has a capacity and
//!   evicts by itself, preferring keys whose bucket is full.
//! - **Several quotas and waiting.** Checking a request against several
//!   quotas without spending any when one refuses, reserving a future slot
//!   for a waiting request, and giving an unused one back all need to
//!   read and write the TAT at a chosen time, which governor does not
//!   expose.
//!
//! # Shedding or back pressure
//!
//! By default the limit **sheds**: its service is always ready. A layer
//! without a key decides in `poll_ready`, before polling the inner
//! service: an admitted request is counted there, and a refused one makes
//! `poll_ready` return `Ready(Ok(()))` at once, without polling the inner
//! service, and `call` return a future that fails with [`RateLimited`].
//! This suits axum and hyper, which assume services are always ready.
//!
//! With [`Builder::wait`] the limit applies **back pressure**, for clients
//! that prefer to slow down: `poll_ready` reserves the request's slot, the
//! moment every quota allows it, and returns `Pending` until then, woken
//! by a timer the service owns (allocated the first time the service
//! waits, reused after). A request that would have to wait longer than
//! the bound is refused at once, not after waiting: its `retry_after` says
//! how long it would have needed.
//!
//! With [`Builder::jitter`], a waiting request is spread: it is counted and
//! sent at `now + w + j`, where `w` is the wait it needs and
//! `j = floor(r × (s + 1) / 2^64)`, with `r` the next output of the
//! service's own SplitMix64 generator (seeded per service from the
//! limiter) and `s = min(jitter, bound − w)` in nanoseconds. So `j` is
//! uniform over `0..=s`, the whole wait stays within `w..=bound`, and a
//! request that needs no wait gets no jitter. The slot is reserved at its
//! jittered time, so jitter moves requests later but never lets them
//! bunch up above the rate.
//!
//! ## Keyed waits
//!
//! A keyed layer learns the key in `call`, after readiness, so it cannot
//! wait in `poll_ready`. Built with [`KeyedBuilder::wait`], its `call`
//! reserves the request's slot on the key's quota and the global ones (by
//! the same rule and jitter as above) and returns a
//! [`WaitingFuture`](future::WaitingFuture) that sleeps until the slot,
//! then calls the inner service. That service is the one `poll_ready` made
//! ready: it moves into the future with the request, and a clone takes its
//! place, which is why a waiting keyed layer needs `S: Clone` (its mode,
//! [`mode::Wait`], is part of its type, so a shedding layer does not). One
//! key's wait holds up no other key: the service is ready for the next
//! request at once. A request that needs no wait is called in `call`, and
//! one that would need longer than the bound is refused at once.
//!
//! ```
//! use std::time::Duration;
//! use seawall_governor::{Quota, RateLimitLayer};
//! use tower::{service_fn, Service, ServiceExt};
//! use tower_layer::Layer;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), seawall_core::BoxError> {
//! // A client that calls many hosts: each host gets one request a second,
//! // and a request waits up to 5 s for its host's slot.
//! let layer = RateLimitLayer::builder()
//!     .key_by(|host: &&'static str| Some(*host))
//!     .key_quota(Quota::per_second(1))
//!     .wait(Duration::from_secs(5))
//!     .build()?;
//! let mut client = layer.layer(service_fn(|host: &'static str| async move {
//!     Ok::<_, std::io::Error>(host.len())
//! }));
//!
//! let start = tokio::time::Instant::now();
//! client.ready().await?.call("a.example").await?;
//! // b's first request does not wait behind a's quota.
//! client.ready().await?.call("b.example").await?;
//! assert_eq!(start.elapsed(), Duration::ZERO);
//! // a's second request waits for a's next slot, a second later.
//! client.ready().await?.call("a.example").await?;
//! assert_eq!(start.elapsed(), Duration::from_secs(1));
//! # Ok(())
//! # }
//! ```
//!
//! # Keys
//!
//! [`Builder::key_by`] gives every key its own quota (set with
//! [`KeyedBuilder::key_quota`]), on top of the global ones. The key comes
//! from a [`KeyExtractor`]: any closure `Fn(&Req) -> Option<K>`, or a type
//! of your own such as seawall-http's client address extractor. A request
//! without a key is refused with [`error::KeyUnavailable`], let through,
//! or counted under a fallback key, by its [`MissingKey`] rule. The key is
//! in the request, so a keyed layer decides in `call`: `poll_ready` polls
//! the inner service, and a refused request leaves it ready but uncalled.
//!
//! Keys are held in a sharded map of at most
//! [`capacity`](KeyedBuilder::capacity) keys, which makes room by itself:
//! when a shard is full and a new key arrives, every **idle** key of the
//! shard goes (its TAT is past, so its bucket is full and forgetting it
//! changes nothing); if that frees less than a sixteenth of the shard,
//! the keys in the **least debt** (lowest TAT) go too, until a sixteenth
//! is free. Forgetting a key in debt forgives it: its next request starts
//! from a full bucket. A **limited** key (one whose next request would be
//! refused) is in more debt than any idle key, so it is never forgotten
//! while its shard holds an idle key. Each pass frees a sixteenth of the
//! shard, so eviction costs constant work per new key, amortized, and
//! finding a held key allocates nothing.
//!
//! # Several quotas
//!
//! A request is under every global quota of its layer and, if keyed, its
//! key's quota. It is admitted only if all of them allow it, and a request
//! refused by one spends none of the others: admission first reads every
//! quota, refusing with nothing written if any needs a wait (longer than
//! the bound, when waiting), then counts the request on each at one slot.
//! The quotas are separate words, so two requests can race between the
//! reading and the counting. The loser gives back the quotas it already
//! counted on, and starts over. A give-back restores a quota only if no
//! other request was counted on it since; otherwise that quota keeps the
//! token. So under a race a refused request may spend a token it did not
//! use, but no quota ever admits more than it allows.
//!
//! # Errors
//!
//! A refusal is a [`RateLimited`] inside the service's `BoxError`: match
//! it with `error.is::<RateLimited>()` or `downcast_ref`, or generically
//! with `seawall_core::rejection::find`. Its `retry_after` is exact: the
//! time, to the nanosecond, until every quota would allow the request,
//! never zero. Its [`QuotaPolicy`](error::QuotaPolicy) is the quota that
//! needs the longest wait, with `limit` = the burst and `window` =
//! burst × interval, the time an empty bucket takes to fill. That is what
//! seawall-http writes as the IETF draft's `RateLimit-Policy` `q` and `w`:
//! a client that sends at most `q` requests per `w` is never refused by the
//! quota, and the quota's long-run rate is `q / w`. seawall-http turns the
//! refusal into `429 Too Many Requests` with `Retry-After`. Errors of the
//! inner service pass through unchanged.
//!
//! # Cancel safety
//!
//! The response future holds nothing of the limiter: an admitted request
//! was counted when admitted, and dropping its future does not give the
//! token back (the inner service may have started the work). A service
//! that holds an admission it has not used (reserved by `poll_ready`, no
//! `call` yet) gives it back when dropped or unwrapped with `into_inner`,
//! and so does a service whose inner service fails readiness. A waiting
//! service that is dropped drops its timer and gives its slot back the
//! same way. A give-back succeeds when no other request was counted on
//! the quota since; otherwise the slot stays spent, because one word
//! cannot hold a hole in the queue of later requests (see [Several
//! quotas](#several-quotas)). A keyed service holds nothing between
//! `poll_ready` and `call`. A waiting keyed request that is dropped
//! before its slot drops its request and the ready service uncalled, and
//! its slot stays spent: other requests of the key were queued behind it.
//!
//! # Automated actions
//!
//! [`ActionGovernor`] is for automation rather than requests: "at most 5
//! instances shut down per 10 minutes", or "at most 10% of the fleet", on
//! a strict sliding window, shared by every task that acts.
//!
//! # Observability
//!
//! Built layers register the counter `seawall_governor_refused_total`
//! (labels `name`, `quota`) and, when keyed, the gauge
//! `seawall_governor_keys` and the counters
//! `seawall_governor_evicted_total` and
//! `seawall_governor_key_unavailable_total` (label `name`); install the
//! metrics recorder before building. Refusals are logged at `trace` and
//! evictions at `debug` under the target `seawall::governor`. With
//! [`Builder::health`] the limit reports a health component of kind
//! `"governor"`: each quota's headroom, refusals by quota and, when keyed,
//! the keys held. It is `warn` while a global quota has no headroom.
//!
//! # Limitations
//!
//! - A keyed layer waits in its response future, not in `poll_ready`, so
//!   a waiting request holds the inner service made ready for it (and
//!   whatever that readiness reserved, such as a concurrency permit) while
//!   it waits; see [keyed waits](#keyed-waits).
//! - A keyed layer has one per-key quota, plus up to
//!   [`MAX_GLOBAL_QUOTAS`] global ones.
//! - The eviction rule holds within a shard. Capacities of 512 keys and
//!   more are split into up to 64 shards (about 256 keys each at least),
//!   and a full shard evicts from itself even while another shard holds
//!   idle keys.
//! - Each key held costs the key, 8 bytes and the hash table's overhead.
//!   A key type that allocates (a `String` built from the request)
//!   allocates on every request; see [`KeyExtractor`].
//! - Tokio's timer has millisecond resolution: a waiting request is sent
//!   up to a millisecond after its slot, never before. Waiting needs a
//!   Tokio runtime with the time driver; shedding needs none.
//! - An admission given back after another request was counted on its
//!   quota stays spent (see [Cancel safety](#cancel-safety)).
//! - A refusal decided in `poll_ready` stands until `call`, however long
//!   the caller takes in between.
//! - Each refusal allocates its boxed error, and a service allocates its
//!   timer the first time it waits. An admitted request allocates nothing.
//! - The limits are per process. Several instances behind a load balancer
//!   each enforce their own.

mod action;
mod admit;
mod builder;
mod gate;
mod gcra;
mod health;
mod key;
mod keyed;
mod layer;
mod limiter;
mod padded;
mod quota;
mod service;
mod store;

pub mod error;
pub mod future;
pub mod mode;

pub use action::{ActionGovernor, ActionGovernorBuilder, ActionPermit, MAX_ACTIONS_PER_WINDOW};
pub use builder::{Builder, KeyedBuilder, DEFAULT_CAPACITY, MAX_GLOBAL_QUOTAS};
pub use error::{ConfigError, RateLimited};
pub use key::{KeyExtractor, MissingKey};
pub use keyed::{KeyedRateLimit, KeyedRateLimitLayer};
pub use layer::RateLimitLayer;
pub use limiter::RateLimiter;
pub use quota::Quota;
pub use service::RateLimit;

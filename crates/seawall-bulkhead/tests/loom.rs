//! Loom models of the bulkhead's lock-free permit counters: threads racing
//! for the last permit of the pool, a partition's requests racing the
//! pool and the partition's own ceiling, and acquisitions racing releases.
//!
//! Run from the workspace root with:
//!
//! ```text
//! RUSTFLAGS="--cfg seawall_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p seawall-bulkhead --release --test loom
//! ```
//!
//! The models drive the public service in reject mode, which needs no
//! runtime: `poll_ready`, `call` and one poll of the response future, with
//! a no-op waker. The inner service's calls never finish, so an admitted
//! call holds its permit until its future is dropped.
//!
//! Two-thread models explore every interleaving; three-thread models are
//! bounded to three preemptions unless `LOOM_MAX_PREEMPTIONS` is set. A
//! normal build compiles none of this, nor loom itself.
#![cfg(seawall_loom)]

use std::convert::Infallible;
use std::future::{Future, Pending};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;
use loom::thread;
use seawall_bulkhead::future::ResponseFuture;
use seawall_bulkhead::{Bulkhead, BulkheadFull, BulkheadHandle, BulkheadLayer, PartitionKey};
use seawall_core::health::{HealthRegistry, Value};
use tower_layer::Layer;
use tower_service::Service;

/// A request names its partition, or none.
type Request = Option<&'static str>;
type Key = fn(&Request) -> Option<&str>;

/// An admitted call, still running: dropping it gives its permit back.
type Held = ResponseFuture<Pending<Result<(), Infallible>>>;

/// The inner service: always ready, and its calls never finish.
#[derive(Debug, Clone, Copy)]
struct Stall;

/// Which outcomes a race reached over all of a model's executions, to show
/// that loom explored both sides of it rather than one order.
#[derive(Debug, Default)]
struct Reached {
    admitted: std::sync::atomic::AtomicBool,
    refused: std::sync::atomic::AtomicBool,
}

/// Two threads race for the last free permit: exactly one wins, and once
/// both calls are dropped the bulkhead is empty again.
#[test]
fn two_threads_race_for_the_last_permit() {
    model(2, || {
        let layer = BulkheadLayer::new(2);
        let handle = layer.handle();
        let mut service = layer.layer(Stall);
        let first = send(&mut service, None).expect("a free permit");

        let threads: Vec<_> = (0..2)
            .map(|_| {
                let mut service = service.clone();
                let handle = handle.clone();
                thread::spawn(move || {
                    let call = send(&mut service, None);
                    if call.is_some() {
                        assert!(handle.in_flight() <= 2, "past capacity");
                    }
                    call
                })
            })
            .collect();
        let calls: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(calls.iter().flatten().count(), 1, "exactly one winner");
        assert_eq!(handle.in_flight(), 2);

        drop(calls);
        drop(first);
        assert_eq!(handle.in_flight(), 0);
    });
}

/// Capacity 2: partition `a` keeps one permit and the pool holds the
/// other. Two requests of `a` race a request of no partition: `a` always
/// gets its reserve, the pool goes to exactly one of the other two, nothing
/// passes capacity or `a`'s ceiling on the way, and every counter, the
/// pool's included, is back at zero once the calls are dropped.
#[test]
fn a_partition_and_the_pool_share_out_the_last_permits() {
    model(3, || {
        let (mut service, handle, registry) = partitioned(2, 2);

        let calls = race(&service, &handle, [Some("a"), Some("a"), None], 2);
        let admitted_a = calls[..2].iter().flatten().count();
        assert!(admitted_a >= 1, "a lost its reserve");
        assert_eq!(
            admitted_a + usize::from(calls[2].is_some()),
            2,
            "the pool went to exactly one request"
        );
        assert_eq!(handle.partition_in_flight("a"), Some(admitted_a));
        assert_eq!(handle.in_flight(), 2);
        assert_eq!(pool_in_use(&registry), 1);

        drop(calls);
        assert_eq!(handle.in_flight(), 0);
        assert_eq!(handle.partition_in_flight("a"), Some(0));
        assert_eq!(pool_in_use(&registry), 0);

        // Each permit went back where it came from: the pool serves one
        // request of no partition, the reserve one of `a`, and that is all.
        let pooled = send(&mut service, None).expect("the pool is free");
        let reserved = send(&mut service, Some("a")).expect("the reserve is free");
        assert!(send(&mut service, Some("a")).is_none());
        drop((pooled, reserved));
    });
}

/// Capacity 3: partition `a` holds its reserve and may hold 2 in all, from
/// a pool of 2. Two more requests of `a` race a request of no partition:
/// exactly one of `a`'s gets under its ceiling, the other request always
/// finds a permit in the pool, and the winner's borrowed permit, once
/// dropped, goes back to the pool rather than to `a`'s reserve.
#[test]
fn a_ceiling_holds_while_its_partition_races_the_pool() {
    model(3, || {
        let (mut service, handle, registry) = partitioned(3, 2);
        let reserved = send(&mut service, Some("a")).expect("a's reserve");

        let [first, second, other]: [Option<Held>; 3] =
            race(&service, &handle, [Some("a"), Some("a"), None], 2)
                .try_into()
                .unwrap();
        assert!(first.is_some() != second.is_some(), "one of a's may borrow");
        assert!(other.is_some(), "the pool had a permit left");
        assert_eq!(handle.partition_in_flight("a"), Some(2));
        assert_eq!(handle.in_flight(), 3);
        assert_eq!(pool_in_use(&registry), 2);

        drop(first.or(second));
        assert_eq!(handle.partition_in_flight("a"), Some(1));
        assert_eq!(pool_in_use(&registry), 1);
        let pooled = send(&mut service, None).expect("the borrowed permit is back");
        assert!(send(&mut service, Some("a")).is_none());

        drop((reserved, other, pooled));
        assert_eq!(handle.in_flight(), 0);
        assert_eq!(handle.partition_in_flight("a"), Some(0));
        assert_eq!(pool_in_use(&registry), 0);
    });
}

/// Capacity 2, both permits held. One thread drops its call while another
/// asks for a permit and the main thread drops the other call: the asker
/// is admitted whenever it saw a release finished, never passes capacity,
/// and nothing is counted twice or lost whatever the order.
#[test]
fn an_acquire_races_two_releases() {
    let reached = std::sync::Arc::new(Reached::default());
    let seen = reached.clone();
    model(3, move || {
        let layer = BulkheadLayer::new(2);
        let handle = layer.handle();
        let mut service = layer.layer(Stall);
        let first = send(&mut service, None).expect("a free permit");
        let second = send(&mut service, None).expect("a free permit");

        let (releaser, asker) = release_while_asking(first, &service, &handle);
        drop(second);
        releaser.join().unwrap();
        let call = asker.join().unwrap();
        seen.record(call.is_some());
        assert_eq!(handle.in_flight(), usize::from(call.is_some()));

        drop(call);
        assert_eq!(handle.in_flight(), 0);
        let both = [send(&mut service, None), send(&mut service, None)];
        assert!(both.iter().all(Option::is_some), "capacity shrank");
    });
    reached.assert_both();
}

/// Capacity 2: partition `a` holds its reserve and the pool's one permit,
/// borrowed. The borrowed call is dropped while a request of no partition
/// asks for the pool: once the drop is seen the request is admitted, as a
/// borrowed permit goes back to the pool, never to `a`'s reserve.
#[test]
fn a_released_borrowed_permit_goes_back_to_the_pool() {
    let reached = std::sync::Arc::new(Reached::default());
    let seen = reached.clone();
    model(2, move || {
        let (mut service, handle, registry) = partitioned(2, 2);
        let reserved = send(&mut service, Some("a")).expect("a's reserve");
        let borrowed = send(&mut service, Some("a")).expect("a borrows the pool");
        assert_eq!(pool_in_use(&registry), 1);

        let (releaser, asker) = release_while_asking(borrowed, &service, &handle);
        releaser.join().unwrap();
        let call = asker.join().unwrap();
        seen.record(call.is_some());
        assert_eq!(handle.partition_in_flight("a"), Some(1));
        assert_eq!(pool_in_use(&registry), u64::from(call.is_some()));
        assert_eq!(handle.in_flight(), 1 + usize::from(call.is_some()));

        drop((reserved, call));
        assert_eq!(handle.in_flight(), 0);
        assert_eq!(handle.partition_in_flight("a"), Some(0));
        assert_eq!(pool_in_use(&registry), 0);
    });
    reached.assert_both();
}

/// Explores every interleaving of two threads; with three, bounds the
/// preemptions to three (unless `LOOM_MAX_PREEMPTIONS` is set), which keeps
/// the file to seconds on two cores.
fn model<F>(threads: usize, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    if threads > 2 && builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// A partitioned bulkhead of `capacity` permits, where partition `a` keeps
/// one and holds at most `a_max`, reporting to the returned registry.
fn partitioned(
    capacity: usize,
    a_max: usize,
) -> (Bulkhead<Stall, Key>, BulkheadHandle, HealthRegistry) {
    let registry = HealthRegistry::new();
    let layer = BulkheadLayer::builder()
        .max_in_flight(capacity)
        .partition_with_max("a", 1, a_max)
        .partition_key(partition as Key)
        .health(&registry)
        .build()
        .unwrap();
    (layer.layer(Stall), layer.handle(), registry)
}

fn partition(request: &Request) -> Option<&str> {
    *request
}

/// Sends `request` through `service`: the running call when admitted,
/// `None` when refused.
fn send<K>(service: &mut Bulkhead<Stall, K>, request: Request) -> Option<Held>
where
    K: PartitionKey<Request>,
{
    let mut cx = Context::from_waker(Waker::noop());
    // Reject mode is always ready, with a permit or without one.
    assert!(matches!(service.poll_ready(&mut cx), Poll::Ready(Ok(()))));
    let mut call = service.call(request);
    match Pin::new(&mut call).poll(&mut cx) {
        Poll::Pending => Some(call),
        Poll::Ready(Err(error)) => {
            assert!(error.is::<BulkheadFull>(), "not a refusal: {error}");
            None
        }
        Poll::Ready(Ok(())) => unreachable!("the inner call never finishes"),
    }
}

/// Sends each of `requests` from a thread of its own, all at once. Each
/// admitted call checks, while it holds its permit, that the bulkhead is
/// within capacity and partition `a` within `a_max`.
fn race(
    service: &Bulkhead<Stall, Key>,
    handle: &BulkheadHandle,
    requests: [Request; 3],
    a_max: usize,
) -> Vec<Option<Held>> {
    let threads: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let mut service = service.clone();
            let handle = handle.clone();
            thread::spawn(move || {
                let call = send(&mut service, request);
                if call.is_some() {
                    assert!(handle.in_flight() <= handle.max_in_flight());
                    assert!(handle.partition_in_flight("a").unwrap() <= a_max);
                }
                call
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// Drops `held` on one thread while another sends a request of no
/// partition. The asker must be admitted if it saw the drop finished, and
/// once admitted the bulkhead must be within capacity.
fn release_while_asking<K>(
    held: Held,
    service: &Bulkhead<Stall, K>,
    handle: &BulkheadHandle,
) -> (thread::JoinHandle<()>, thread::JoinHandle<Option<Held>>)
where
    K: PartitionKey<Request> + Clone + Send + 'static,
{
    let released = Arc::new(AtomicBool::new(false));
    let releaser = {
        let released = released.clone();
        thread::spawn(move || {
            drop(held);
            released.store(true, Ordering::Release);
        })
    };
    let asker = {
        let mut service = service.clone();
        let handle = handle.clone();
        thread::spawn(move || {
            let free = released.load(Ordering::Acquire);
            let call = send(&mut service, None);
            if free {
                assert!(call.is_some(), "refused with a permit free");
            }
            if call.is_some() {
                assert!(handle.in_flight() <= handle.max_in_flight());
            }
            call
        })
    };
    (releaser, asker)
}

/// The pool's permits in use, as the health report shows them.
fn pool_in_use(registry: &HealthRegistry) -> u64 {
    match registry.snapshot()[0].report().get("pool_in_use") {
        Some(Value::Unsigned(n)) => *n,
        other => panic!("no pool_in_use in the report: {other:?}"),
    }
}

impl Service<Request> for Stall {
    type Response = ();
    type Error = Infallible;
    type Future = Pending<Result<(), Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request) -> Self::Future {
        std::future::pending()
    }
}

impl Reached {
    fn record(&self, admitted: bool) {
        let flag = if admitted {
            &self.admitted
        } else {
            &self.refused
        };
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn assert_both(&self) {
        let admitted = self.admitted.load(std::sync::atomic::Ordering::Relaxed);
        let refused = self.refused.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            admitted && refused,
            "admitted {admitted}, refused {refused}"
        );
    }
}

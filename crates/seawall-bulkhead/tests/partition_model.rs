//! Random sequences of partitioned calls, completions and cancellations
//! match a model of the partition rules, keep every guaranteed share, and
//! leave no permit behind.

use std::task::{Context, Poll};

use proptest::prelude::*;
use seawall_bulkhead::future::ResponseFuture;
use seawall_bulkhead::{Bulkhead, BulkheadFull, BulkheadHandle, BulkheadLayer};
use tokio::sync::oneshot;
use tower::Service;
use tower_layer::Layer;
use tower_test::mock::Spawn;

const CAPACITY: usize = 6;

/// name, guaranteed, ceiling: a pool of 6 - 2 - 1 = 3.
const PARTITIONS: [(&str, usize, usize); 2] = [("gold", 2, 4), ("silver", 1, CAPACITY)];

/// The keys requests carry: both partitions, an unknown one and none.
const KEYS: [Option<&str>; 4] = [Some("gold"), Some("silver"), Some("bronze"), None];

#[derive(Debug, Clone)]
enum Op {
    Send(usize),
    Complete(usize),
    Cancel(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..KEYS.len()).prop_map(Op::Send),
        3 => any::<usize>().prop_map(Op::Complete),
        1 => any::<usize>().prop_map(Op::Cancel),
    ]
}

proptest! {
    // 256 cases of 40 to 80 operations: over 10,000 operations.
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn partitions_match_the_model(ops in proptest::collection::vec(op(), 40..80)) {
        run(ops);
    }
}

/// Where the model expects a permit to come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Pool,
    Reserved(usize),
    Borrowed(usize),
}

struct Call {
    future: tokio_test::task::Spawn<ResponseFuture<oneshot::Receiver<()>>>,
    complete: oneshot::Sender<()>,
    source: Source,
}

struct Request {
    key: Option<&'static str>,
    complete: oneshot::Receiver<()>,
}

fn key(request: &Request) -> Option<&str> {
    request.key
}

type Key = fn(&Request) -> Option<&str>;

fn run(ops: Vec<Op>) {
    let mut builder = BulkheadLayer::builder().max_in_flight(CAPACITY);
    for (name, guaranteed, max) in PARTITIONS {
        builder = builder.partition_with_max(name, guaranteed, max);
    }
    let layer = builder.partition_key(key as Key).build().unwrap();
    let handle = layer.handle();
    let mut service = Spawn::new(layer.layer(Inner));
    let mut calls: Vec<Call> = Vec::new();

    for op in ops {
        match op {
            Op::Send(k) => send(&mut service, &mut calls, KEYS[k]),
            Op::Complete(j) if !calls.is_empty() => {
                let mut call = calls.swap_remove(j % calls.len());
                call.complete.send(()).unwrap();
                assert!(matches!(call.future.poll(), Poll::Ready(Ok(()))));
            }
            Op::Cancel(j) if !calls.is_empty() => drop(calls.swap_remove(j % calls.len())),
            Op::Complete(_) | Op::Cancel(_) => {}
        }
        check(&handle, &calls);
    }

    drop(calls);
    assert_eq!(handle.in_flight(), 0, "a permit leaked");
    for (name, _, _) in PARTITIONS {
        assert_eq!(handle.partition_in_flight(name), Some(0));
    }
}

fn send(
    service: &mut Spawn<Bulkhead<Inner, Key>>,
    calls: &mut Vec<Call>,
    key: Option<&'static str>,
) {
    let expected = admit(calls, key);
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    let (complete, receiver) = oneshot::channel();
    let mut future = tokio_test::task::spawn(service.call(Request {
        key,
        complete: receiver,
    }));

    let Some(source) = expected else {
        let Poll::Ready(Err(error)) = future.poll() else {
            panic!("the model refuses {key:?}, the bulkhead admits it");
        };
        let full = error.downcast_ref::<BulkheadFull>().expect("a refusal");
        let partition = partition_of(key).map(|p| PARTITIONS[p].0);
        assert_eq!(full.partition(), partition);
        return;
    };
    assert!(future.poll().is_pending(), "the model admits {key:?}");
    calls.push(Call {
        future,
        complete,
        source,
    });
}

/// The partition rules: a partition takes from its reserve, then borrows
/// from the pool, within its ceiling; anyone else uses the pool alone.
fn admit(calls: &[Call], key: Option<&str>) -> Option<Source> {
    let pool_size = CAPACITY - PARTITIONS.iter().map(|p| p.1).sum::<usize>();
    let pool_used = count(calls, |s| matches!(s, Source::Pool | Source::Borrowed(_)));
    let pool_free = pool_used < pool_size;

    let Some(p) = partition_of(key) else {
        return pool_free.then_some(Source::Pool);
    };
    let (_, guaranteed, ceiling) = PARTITIONS[p];
    let reserved = count(calls, |s| s == Source::Reserved(p));
    let total = reserved + count(calls, |s| s == Source::Borrowed(p));
    if total >= ceiling {
        return None;
    }
    if reserved < guaranteed {
        return Some(Source::Reserved(p));
    }
    pool_free.then_some(Source::Borrowed(p))
}

fn check(handle: &BulkheadHandle, calls: &[Call]) {
    assert!(handle.in_flight() <= CAPACITY, "over capacity");
    assert_eq!(handle.in_flight(), calls.len());
    for (p, (name, guaranteed, ceiling)) in PARTITIONS.into_iter().enumerate() {
        let held = count(
            calls,
            |s| matches!(s, Source::Reserved(q) | Source::Borrowed(q) if q == p),
        );
        assert_eq!(handle.partition_in_flight(name), Some(held));
        assert!(held <= ceiling, "{name} over its ceiling");

        // The guarantee itself: below its share, a partition is admitted
        // whatever the others hold. The model is checked against the
        // bulkhead on every send, so this holds for the bulkhead too.
        if held < guaranteed {
            assert!(admit(calls, Some(name)).is_some(), "{name} lost its share");
        }
    }
}

fn partition_of(key: Option<&str>) -> Option<usize> {
    PARTITIONS.iter().position(|p| Some(p.0) == key)
}

fn count(calls: &[Call], f: impl Fn(Source) -> bool) -> usize {
    calls.iter().filter(|c| f(c.source)).count()
}

/// An always-ready service whose call finishes when the test says so.
#[derive(Clone)]
struct Inner;

impl Service<Request> for Inner {
    type Response = ();
    type Error = oneshot::error::RecvError;
    type Future = oneshot::Receiver<()>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        request.complete
    }
}

//! Random sequences of ready / call / complete / cancel / drop / clone /
//! time leave no permit behind, never pass capacity, and match a model of
//! the bulkhead step by step, in both modes.

use std::task::{Context, Poll};
use std::time::Duration;

use proptest::prelude::*;
use seawall_bulkhead::future::ResponseFuture;
use seawall_bulkhead::{Bulkhead, BulkheadFull, BulkheadHandle, BulkheadLayer};
use tokio::sync::oneshot;
use tokio::time::Instant;
use tower::Service;
use tower_layer::Layer;
use tower_test::mock::Spawn;

const WAIT: Duration = Duration::from_millis(500);
const MAX_SERVICES: usize = 6;

#[derive(Debug, Clone)]
enum Op {
    Ready(usize),
    Call(usize),
    Complete(usize),
    Cancel(usize),
    DropService(usize),
    Clone(usize),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<usize>().prop_map(Op::Ready),
        4 => any::<usize>().prop_map(Op::Call),
        2 => any::<usize>().prop_map(Op::Complete),
        1 => any::<usize>().prop_map(Op::Cancel),
        1 => any::<usize>().prop_map(Op::DropService),
        1 => any::<usize>().prop_map(Op::Clone),
        1 => (0..800u64).prop_map(Op::Advance),
    ]
}

proptest! {
    // 10,000 random sequences of 40 to 80 operations per mode: the number
    // the foundation issue asks for.
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn reject_mode_matches_the_model(
        capacity in 1..4usize,
        ops in proptest::collection::vec(op(), 40..80),
    ) {
        run(capacity, None, ops);
    }

    #[test]
    fn wait_mode_matches_the_model(
        capacity in 1..4usize,
        ops in proptest::collection::vec(op(), 40..80),
    ) {
        run(capacity, Some(WAIT), ops);
    }
}

/// The model's view of one service.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reservation {
    Idle,
    Held,
    Refused { waited: Option<Duration> },
    Waiting { since: Instant },
}

struct Svc {
    service: Spawn<Bulkhead<Inner>>,
    state: Reservation,
}

struct Call {
    future: tokio_test::task::Spawn<ResponseFuture<oneshot::Receiver<()>>>,
    complete: oneshot::Sender<()>,
}

fn run(capacity: usize, wait: Option<Duration>, ops: Vec<Op>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async move {
        let mut builder = BulkheadLayer::builder().max_in_flight(capacity);
        if let Some(wait) = wait {
            builder = builder.wait(wait);
        }
        let layer = builder.build().unwrap();
        let handle = layer.handle();
        let mut services: Vec<Svc> = (0..2).map(|_| fresh(&layer)).collect();
        let mut calls: Vec<Call> = Vec::new();

        for op in ops {
            let released = step(&layer, &mut services, &mut calls, capacity, wait, op).await;
            check(&handle, &services, &calls, capacity, released);
        }

        drop(services);
        drop(calls);
        assert_eq!(handle.in_flight(), 0, "a permit leaked");
        assert_eq!(handle.waiting(), 0, "a waiter leaked");
    });
}

/// Applies `op` to the services and the model; returns whether it freed a
/// permit.
async fn step(
    layer: &BulkheadLayer,
    services: &mut Vec<Svc>,
    calls: &mut Vec<Call>,
    capacity: usize,
    wait: Option<Duration>,
    op: Op,
) -> bool {
    let model_in_flight = in_flight(services, calls);
    match op {
        Op::Ready(i) => {
            let count = services.len();
            let svc = &mut services[i % count];
            let now = Instant::now();
            let expected = match svc.state {
                Reservation::Held => Reservation::Held,
                _ if model_in_flight < capacity => Reservation::Held,
                Reservation::Waiting { since } if now >= since + WAIT => Reservation::Refused {
                    waited: Some(now - since),
                },
                Reservation::Waiting { since } => Reservation::Waiting { since },
                _ if wait.is_some() => Reservation::Waiting { since: now },
                _ => Reservation::Refused { waited: None },
            };
            let polled = svc.service.poll_ready();
            match expected {
                Reservation::Waiting { .. } => assert!(polled.is_pending()),
                _ => assert!(matches!(polled, Poll::Ready(Ok(())))),
            }
            svc.state = expected;
        }
        Op::Call(i) => {
            let count = services.len();
            let svc = &mut services[i % count];
            match svc.state {
                Reservation::Held => {
                    let (complete, receiver) = oneshot::channel();
                    let future = tokio_test::task::spawn(svc.service.call(receiver));
                    calls.push(Call { future, complete });
                }
                Reservation::Refused { waited } => {
                    let (_complete, receiver) = oneshot::channel();
                    let mut future = tokio_test::task::spawn(svc.service.call(receiver));
                    let Poll::Ready(Err(error)) = future.poll() else {
                        panic!("a refused call fails at once");
                    };
                    let full = error.downcast_ref::<BulkheadFull>().expect("a refusal");
                    assert_eq!(full.waited(), waited);
                }
                Reservation::Idle | Reservation::Waiting { .. } => return false,
            }
            svc.state = Reservation::Idle;
        }
        Op::Complete(j) if !calls.is_empty() => {
            let mut call = calls.swap_remove(j % calls.len());
            call.complete.send(()).unwrap();
            assert!(matches!(call.future.poll(), Poll::Ready(Ok(()))));
            return true;
        }
        Op::Cancel(j) if !calls.is_empty() => {
            calls.swap_remove(j % calls.len());
            return true;
        }
        Op::Complete(_) | Op::Cancel(_) => {}
        Op::DropService(i) => {
            let i = i % services.len();
            let old = std::mem::replace(&mut services[i], fresh(layer));
            return old.state == Reservation::Held;
        }
        Op::Clone(i) if services.len() < MAX_SERVICES => {
            let service = services[i % services.len()].service.clone();
            services.push(Svc {
                service,
                state: Reservation::Idle,
            });
        }
        Op::Clone(_) => {}
        Op::Advance(ms) => tokio::time::advance(Duration::from_millis(ms)).await,
    }
    false
}

/// Compares the bulkhead with the model after a step.
fn check(
    handle: &BulkheadHandle,
    services: &[Svc],
    calls: &[Call],
    capacity: usize,
    released: bool,
) {
    let expected = in_flight(services, calls);
    assert!(handle.in_flight() <= capacity, "over capacity");
    assert_eq!(
        handle.in_flight(),
        expected,
        "the bulkhead disagrees with the model"
    );

    let now = Instant::now();
    let mut waiting = 0;
    for svc in services {
        let Reservation::Waiting { since } = svc.state else {
            continue;
        };
        waiting += 1;
        if released || now >= since + WAIT {
            assert!(svc.service.is_woken(), "a waiter was not woken");
        }
    }
    assert_eq!(handle.waiting(), waiting);
}

fn in_flight(services: &[Svc], calls: &[Call]) -> usize {
    let held = services
        .iter()
        .filter(|s| s.state == Reservation::Held)
        .count();
    held + calls.len()
}

fn fresh(layer: &BulkheadLayer) -> Svc {
    Svc {
        service: Spawn::new(layer.layer(Inner)),
        state: Reservation::Idle,
    }
}

/// An always-ready service whose call finishes when the test says so.
#[derive(Clone)]
struct Inner;

impl Service<oneshot::Receiver<()>> for Inner {
    type Response = ();
    type Error = oneshot::error::RecvError;
    type Future = oneshot::Receiver<()>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, complete: oneshot::Receiver<()>) -> Self::Future {
        complete
    }
}

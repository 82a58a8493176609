//! Random sequences of ready / call / complete / cancel / queue / expire /
//! drop service / clone / time match a model of the shedder step by step,
//! never pass the limit, and leave no slot held and nobody in line.

use std::collections::VecDeque;
use std::task::{Context, Poll};
use std::time::Duration;

use proptest::prelude::*;
use seawall_shed::future::{BackPressureFuture, ResponseFuture};
use seawall_shed::limit::Fixed;
use seawall_shed::{
    BackPressure, BackPressureLayer, Overloaded, QueueOrder, Shed, ShedHandle, ShedLayer,
};
use tokio::sync::oneshot;
use tokio::time::Instant;
use tower::Service;
use tower_layer::Layer;
use tower_test::mock::Spawn;

const MAX_WAIT: Duration = Duration::from_millis(300);
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
        1 => (0..200u64).prop_map(Op::Advance),
    ]
}

proptest! {
    // 10,000 random sequences of 40 to 80 operations per mode.
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn shedding_with_a_queue_matches_the_model(
        limit in 1..4usize,
        capacity in 0..4usize,
        ops in proptest::collection::vec(op(), 40..80),
    ) {
        shedding(limit, capacity, ops);
    }

    #[test]
    fn back_pressure_matches_the_model(
        limit in 1..4usize,
        ops in proptest::collection::vec(op(), 40..80),
    ) {
        back_pressure(limit, ops);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// The line and the slots, as the model sees them. Waiters are named by
/// an id that the test's own records carry.
#[derive(Debug, Default)]
struct Model {
    limit: usize,
    in_flight: usize,
    /// Waiting ids with their deadline, oldest first.
    line: VecDeque<(u64, Option<Instant>)>,
    granted: Vec<u64>,
    expired: Vec<u64>,
    next_id: u64,
}

impl Model {
    fn new(limit: usize) -> Self {
        Model {
            limit,
            ..Model::default()
        }
    }

    fn join(&mut self, deadline: Option<Instant>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.line.push_back((id, deadline));
        self.dispatch();
        id
    }

    fn leave(&mut self, id: u64) {
        self.line.retain(|(waiter, _)| *waiter != id);
        if let Some(at) = self.granted.iter().position(|&g| g == id) {
            self.granted.remove(at);
            self.release();
        }
        self.expired.retain(|&e| e != id);
    }

    fn release(&mut self) {
        self.in_flight -= 1;
        self.dispatch();
    }

    /// Free slots go to the oldest waiter; waiters past their deadline
    /// are told so on the way.
    fn dispatch(&mut self) {
        let now = Instant::now();
        while let Some(&(id, deadline)) = self.line.front() {
            if deadline.is_some_and(|d| d <= now) {
                self.line.pop_front();
                self.expired.push(id);
            } else if self.in_flight < self.limit {
                self.line.pop_front();
                self.in_flight += 1;
                self.granted.push(id);
            } else {
                break;
            }
        }
    }

    /// Takes the grant of `id`, if it has one.
    fn take_grant(&mut self, id: u64) -> bool {
        let Some(at) = self.granted.iter().position(|&g| g == id) else {
            return false;
        };
        self.granted.remove(at);
        true
    }

    fn check(&self, handle: &ShedHandle) {
        assert!(handle.in_flight() <= self.limit, "over the limit");
        assert_eq!(handle.in_flight(), self.in_flight, "slots held");
        assert_eq!(handle.queue_len(), self.line.len(), "waiters in line");
    }
}

// ---------------------------------------------------------------------
// Shedding, with a FIFO queue of `capacity` (none when 0).

type ShedSvc = Spawn<Shed<Inner>>;
type ShedFuture = ResponseFuture<
    oneshot::Receiver<()>,
    Inner,
    oneshot::Receiver<()>,
    seawall_core::DefaultClassifier,
>;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Reserved {
    Idle,
    Held,
    Overflow,
}

struct ShedService {
    service: ShedSvc,
    state: Reserved,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CallState {
    Running,
    Queued { id: u64, since: Instant },
}

struct ShedCall {
    future: tokio_test::task::Spawn<ShedFuture>,
    complete: oneshot::Sender<()>,
    state: CallState,
}

fn shedding(limit: usize, capacity: usize, ops: Vec<Op>) {
    runtime().block_on(async move {
        let mut builder = ShedLayer::builder().algorithm(Fixed::new(limit).unwrap());
        if capacity > 0 {
            builder = builder
                .queue(capacity, MAX_WAIT)
                .queue_order(QueueOrder::Fifo);
        }
        let layer = builder.build().unwrap();
        let handle = layer.handle();
        let fresh = |layer: &ShedLayer| ShedService {
            service: Spawn::new(layer.layer(Inner)),
            state: Reserved::Idle,
        };
        let mut model = Model::new(limit);
        let mut services: Vec<ShedService> = (0..2).map(|_| fresh(&layer)).collect();
        let mut calls: Vec<ShedCall> = Vec::new();

        for op in ops {
            match op {
                Op::Ready(i) => {
                    let count = services.len();
                    let svc = &mut services[i % count];
                    if svc.state == Reserved::Idle {
                        svc.state = if model.line.is_empty() && model.in_flight < limit {
                            model.in_flight += 1;
                            Reserved::Held
                        } else {
                            Reserved::Overflow
                        };
                    }
                    assert!(matches!(svc.service.poll_ready(), Poll::Ready(Ok(()))));
                }
                Op::Call(i) => {
                    let count = services.len();
                    let svc = &mut services[i % count];
                    let (complete, receiver) = oneshot::channel();
                    let state = match svc.state {
                        Reserved::Idle => continue,
                        Reserved::Held => CallState::Running,
                        Reserved::Overflow if model.line.len() < capacity => {
                            let now = Instant::now();
                            let id = model.join(Some(now + MAX_WAIT));
                            CallState::Queued { id, since: now }
                        }
                        Reserved::Overflow => {
                            svc.state = Reserved::Idle;
                            let mut future = tokio_test::task::spawn(svc.service.call(receiver));
                            let Poll::Ready(Err(error)) = future.poll() else {
                                panic!("a call without a slot or a place in line fails at once");
                            };
                            let refusal = error.downcast_ref::<Overloaded>().expect("a refusal");
                            assert_eq!(refusal.waited(), None);
                            continue;
                        }
                    };
                    svc.state = Reserved::Idle;
                    let future = tokio_test::task::spawn(svc.service.call(receiver));
                    calls.push(ShedCall {
                        future,
                        complete,
                        state,
                    });
                }
                Op::Complete(j) => {
                    let running: Vec<usize> = (0..calls.len())
                        .filter(|&k| calls[k].state == CallState::Running)
                        .collect();
                    if running.is_empty() {
                        continue;
                    }
                    let mut call = calls.swap_remove(running[j % running.len()]);
                    call.complete.send(()).unwrap();
                    assert!(matches!(call.future.poll(), Poll::Ready(Ok(()))));
                    model.release();
                }
                Op::Cancel(j) => {
                    if calls.is_empty() {
                        continue;
                    }
                    let call = calls.swap_remove(j % calls.len());
                    match call.state {
                        CallState::Running => model.release(),
                        CallState::Queued { id, .. } => model.leave(id),
                    }
                }
                Op::DropService(i) => {
                    let i = i % services.len();
                    let old = std::mem::replace(&mut services[i], fresh(&layer));
                    if old.state == Reserved::Held {
                        drop(old);
                        model.release();
                    }
                }
                Op::Clone(i) => {
                    if services.len() < MAX_SERVICES {
                        let service = services[i % services.len()].service.clone();
                        services.push(ShedService {
                            service,
                            state: Reserved::Idle,
                        });
                    }
                }
                Op::Advance(ms) => tokio::time::advance(Duration::from_millis(ms)).await,
            }
            poll_queued(&mut calls, &mut model);
            model.check(&handle);
        }

        drop(services);
        drop(calls);
        assert_eq!(handle.in_flight(), 0, "a slot leaked");
        assert_eq!(handle.queue_len(), 0, "a waiter leaked");
    });
}

/// Polls every queued call, in order, as the model expects each to go:
/// past its deadline it fails, even with a slot granted in the same
/// instant; with a slot it runs; otherwise it waits.
fn poll_queued(calls: &mut Vec<ShedCall>, model: &mut Model) {
    let mut k = 0;
    while k < calls.len() {
        let CallState::Queued { id, since } = calls[k].state else {
            k += 1;
            continue;
        };
        let now = Instant::now();
        let polled = calls[k].future.poll();
        if now >= since + MAX_WAIT {
            model.leave(id);
            let Poll::Ready(Err(error)) = polled else {
                panic!("a request past its deadline fails");
            };
            let refusal = error.downcast_ref::<Overloaded>().expect("a refusal");
            assert_eq!(refusal.waited(), Some(now - since));
            calls.swap_remove(k);
            continue;
        }
        assert!(polled.is_pending(), "a running or waiting call is pending");
        if model.take_grant(id) {
            calls[k].state = CallState::Running;
        }
        k += 1;
    }
}

// ---------------------------------------------------------------------
// Back pressure.

type BackSvc = Spawn<BackPressure<Inner>>;
type BackFuture = BackPressureFuture<oneshot::Receiver<()>, seawall_core::DefaultClassifier>;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Producer {
    Idle,
    Held,
    Waiting(u64),
}

struct BackService {
    service: BackSvc,
    state: Producer,
}

struct BackCall {
    future: tokio_test::task::Spawn<BackFuture>,
    complete: oneshot::Sender<()>,
}

fn back_pressure(limit: usize, ops: Vec<Op>) {
    runtime().block_on(async move {
        let layer = BackPressureLayer::builder()
            .algorithm(Fixed::new(limit).unwrap())
            .build_back_pressure()
            .unwrap();
        let handle = layer.handle();
        let fresh = |layer: &BackPressureLayer| BackService {
            service: Spawn::new(layer.layer(Inner)),
            state: Producer::Idle,
        };
        let mut model = Model::new(limit);
        let mut services: Vec<BackService> = (0..2).map(|_| fresh(&layer)).collect();
        let mut calls: Vec<BackCall> = Vec::new();

        for op in ops {
            match op {
                Op::Ready(i) => {
                    let count = services.len();
                    let svc = &mut services[i % count];
                    if svc.state == Producer::Idle {
                        svc.state = if model.line.is_empty() && model.in_flight < limit {
                            model.in_flight += 1;
                            Producer::Held
                        } else {
                            Producer::Waiting(model.join(None))
                        };
                    }
                    if let Producer::Waiting(id) = svc.state {
                        if model.take_grant(id) {
                            svc.state = Producer::Held;
                        }
                    }
                    let polled = svc.service.poll_ready();
                    match svc.state {
                        Producer::Held => assert!(matches!(polled, Poll::Ready(Ok(())))),
                        _ => assert!(polled.is_pending()),
                    }
                }
                Op::Call(i) => {
                    let count = services.len();
                    let svc = &mut services[i % count];
                    if svc.state != Producer::Held {
                        continue;
                    }
                    svc.state = Producer::Idle;
                    let (complete, receiver) = oneshot::channel();
                    let future = tokio_test::task::spawn(svc.service.call(receiver));
                    calls.push(BackCall { future, complete });
                }
                Op::Complete(j) => {
                    if calls.is_empty() {
                        continue;
                    }
                    let mut call = calls.swap_remove(j % calls.len());
                    call.complete.send(()).unwrap();
                    assert!(matches!(call.future.poll(), Poll::Ready(Ok(()))));
                    model.release();
                }
                Op::Cancel(j) => {
                    if calls.is_empty() {
                        continue;
                    }
                    calls.swap_remove(j % calls.len());
                    model.release();
                }
                Op::DropService(i) => {
                    let i = i % services.len();
                    let old = std::mem::replace(&mut services[i], fresh(&layer));
                    let state = old.state;
                    drop(old);
                    match state {
                        Producer::Held => model.release(),
                        Producer::Waiting(id) => model.leave(id),
                        Producer::Idle => {}
                    }
                }
                Op::Clone(i) => {
                    if services.len() < MAX_SERVICES {
                        let service = services[i % services.len()].service.clone();
                        services.push(BackService {
                            service,
                            state: Producer::Idle,
                        });
                    }
                }
                Op::Advance(ms) => tokio::time::advance(Duration::from_millis(ms)).await,
            }
            model.check(&handle);
            // A waiter handed a slot was woken; the others were not.
            for svc in &services {
                if let Producer::Waiting(id) = svc.state {
                    if model.granted.contains(&id) {
                        assert!(svc.service.is_woken(), "a granted waiter was not woken");
                    }
                }
            }
        }

        drop(services);
        drop(calls);
        assert_eq!(handle.in_flight(), 0, "a slot leaked");
        assert_eq!(handle.queue_len(), 0, "a waiter leaked");
    });
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

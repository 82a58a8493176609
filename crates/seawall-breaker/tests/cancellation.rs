//! Random sequences of ready, call, answer, failure, dropped futures,
//! dropped services and time, through the `Service` on a paused clock:
//! never more than K probes at once, and nothing held once everything is
//! dropped.

use std::task::Poll;
use std::time::Duration;

use proptest::prelude::*;
use seawall_breaker::error::{BoxError, CircuitOpen};
use seawall_breaker::{BreakerConfig, BreakerState, CircuitBreakerLayer};
use tokio_test::task;
use tower::Layer;
use tower_test::mock;

const PROBES: u32 = 2;

type Mock = mock::Mock<u32, u32>;
type Service = mock::Spawn<seawall_breaker::CircuitBreaker<Mock>>;
type Response = seawall_breaker::future::ResponseFuture<
    mock::future::ResponseFuture<u32>,
    seawall_core::DefaultClassifier,
>;

#[derive(Debug, Clone)]
enum Op {
    NewService,
    PollReady(usize),
    Call(usize),
    Answer { pick: usize, ok: bool },
    DropFuture(usize),
    DropService(usize),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::NewService),
        4 => any::<usize>().prop_map(Op::PollReady),
        4 => any::<usize>().prop_map(Op::Call),
        4 => (any::<usize>(), any::<bool>()).prop_map(|(pick, ok)| Op::Answer { pick, ok }),
        2 => any::<usize>().prop_map(Op::DropFuture),
        1 => any::<usize>().prop_map(Op::DropService),
        2 => prop::sample::select(vec![10u64, 50, 100, 300]).prop_map(Op::Advance),
    ]
}

struct InFlight {
    response: task::Spawn<Response>,
    answer: mock::SendResponse<u32>,
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let layer = CircuitBreakerLayer::new(
        BreakerConfig::builder()
            .consecutive_failures(1)
            .open_duration(Duration::from_millis(100))
            .half_open_probes(PROBES)
            .half_open_success_ratio(1.0)
            .half_open_timeout(Duration::from_millis(250))
            .build()
            .unwrap(),
    );
    let handle = layer.handle();
    let mut services: Vec<(Service, mock::Handle<u32, u32>, bool)> = Vec::new();
    let mut in_flight: Vec<InFlight> = Vec::new();

    for op in ops {
        match op {
            Op::NewService => {
                let (service, mock) = mock::spawn_with(|m: Mock| layer.layer(m));
                services.push((service, mock, false));
            }
            Op::PollReady(i) if !services.is_empty() => {
                let n = services.len();
                let (service, _, ready) = &mut services[i % n];
                if let Poll::Ready(result) = service.poll_ready() {
                    prop_assert!(result.is_ok());
                    *ready = true;
                }
            }
            Op::Call(i) if !services.is_empty() => {
                let n = services.len();
                let (service, mock, ready) = &mut services[i % n];
                if !*ready {
                    continue;
                }
                *ready = false;
                let mut response = task::spawn(service.call(7));
                match response.poll() {
                    Poll::Ready(Err(error)) => prop_assert!(error.is::<CircuitOpen>()),
                    Poll::Ready(Ok(_)) => prop_assert!(false, "answered before the mock"),
                    Poll::Pending => {
                        let mut next = task::spawn(mock.next_request());
                        let Poll::Ready(Some((_, answer))) = next.poll() else {
                            return Err(TestCaseError::fail("the call did not reach the mock"));
                        };
                        in_flight.push(InFlight { response, answer });
                    }
                }
            }
            Op::Answer { pick, ok } if !in_flight.is_empty() => {
                let n = in_flight.len();
                let InFlight {
                    mut response,
                    answer,
                } = in_flight.swap_remove(pick % n);
                if ok {
                    answer.send_response(1);
                } else {
                    answer.send_error(BoxError::from("upstream down"));
                }
                let Poll::Ready(result) = response.poll() else {
                    return Err(TestCaseError::fail("an answered call is still pending"));
                };
                prop_assert_eq!(result.is_ok(), ok);
            }
            Op::DropFuture(pick) if !in_flight.is_empty() => {
                let n = in_flight.len();
                drop(in_flight.swap_remove(pick % n));
            }
            Op::DropService(i) if !services.is_empty() => {
                let n = services.len();
                drop(services.swap_remove(i % n));
            }
            Op::Advance(ms) => tokio::time::advance(Duration::from_millis(ms)).await,
            _ => {}
        }
        prop_assert!(handle.stats().probes_in_flight <= PROBES);
    }

    // Dropping everything releases every slot: after the next open period
    // a full set of probes goes through.
    drop(in_flight);
    drop(services);
    prop_assert_eq!(handle.stats().probes_in_flight, 0);
    handle.force_open();
    handle.force_closed();
    let breaker = handle.breaker();
    let tripping = breaker.try_acquire().unwrap();
    tripping.record(
        seawall_core::Outcome::Failure(seawall_core::FailureKind::Error),
        Duration::ZERO,
    );
    tokio::time::advance(Duration::from_millis(100)).await;
    prop_assert_eq!(handle.state(), BreakerState::HalfOpen);
    let probes: Vec<_> = (0..PROBES).map(|_| breaker.try_acquire()).collect();
    prop_assert!(probes
        .iter()
        .all(|p| p.as_ref().is_ok_and(|p| p.is_probe())));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn nothing_is_held_after_random_cancellations(ops in prop::collection::vec(op(), 50..150)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(run(ops))?;
    }
}

//! Random admit / complete / drop / drain sequences leave nothing counted.

use std::time::Duration;

use proptest::prelude::*;
use seawall_handshake::{Drain, ReadinessGateLayer};
use tokio::sync::oneshot;
use tokio_test::{assert_ready, assert_ready_ok};
use tower::{service_fn, Service};
use tower_layer::Layer;

#[derive(Debug, Clone)]
enum Op {
    Call,
    Complete(usize),
    DropFuture(usize),
    ReadyThenDropService,
    Drain,
    Undrain,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Call),
        2 => any::<usize>().prop_map(Op::Complete),
        2 => any::<usize>().prop_map(Op::DropFuture),
        1 => Just(Op::ReadyThenDropService),
        1 => Just(Op::Drain),
        1 => Just(Op::Undrain),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_count_matches_the_live_requests(ops in proptest::collection::vec(op(), 0..40)) {
        // No notice delay: the gate closes as soon as the drain starts.
        let drain = Drain::builder().notice_delay(Duration::ZERO).build().unwrap();
        let layer = ReadinessGateLayer::new(&drain);
        let inner = service_fn(|done: oneshot::Receiver<()>| async move {
            let _ = done.await;
            Ok::<_, std::io::Error>(())
        });
        let mut service = layer.layer(inner);
        let mut live = Vec::new();

        for op in ops {
            match op {
                Op::Call => {
                    let (send, done) = oneshot::channel();
                    let mut ready = tokio_test::task::spawn(());
                    assert_ready_ok!(ready.enter(|cx, _| service.poll_ready(cx)));
                    let mut response = tokio_test::task::spawn(service.call(done));
                    if drain.is_closed() {
                        prop_assert!(assert_ready!(response.poll()).is_err());
                    } else {
                        live.push((send, response));
                    }
                }
                Op::Complete(i) if !live.is_empty() => {
                    let (send, mut response) = live.remove(i % live.len());
                    let _ = send.send(());
                    prop_assert!(assert_ready!(response.poll()).is_ok());
                }
                Op::DropFuture(i) if !live.is_empty() => {
                    drop(live.remove(i % live.len()));
                }
                Op::ReadyThenDropService => {
                    let mut spare = service.clone();
                    let mut ready = tokio_test::task::spawn(());
                    assert_ready_ok!(ready.enter(|cx, _| spare.poll_ready(cx)));
                    drop(spare);
                }
                Op::Drain => drop(drain.drain()),
                Op::Undrain => drain.undrain(),
                _ => {}
            }
            prop_assert_eq!(drain.in_flight(), live.len());
        }

        live.clear();
        prop_assert_eq!(drain.in_flight(), 0);
    }
}

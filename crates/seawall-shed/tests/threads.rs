//! Real threads racing for the last slots: services on a multi-threaded
//! runtime take and free slots as fast as they can, in back-pressure mode
//! and through the queue. A lost wake-up would leave a waiter asleep for
//! good (the guard below would fire); a lost or doubled slot would show in
//! the final counts.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use seawall_core::BoxError;
use seawall_shed::limit::Fixed;
use seawall_shed::{BackPressureLayer, QueueOrder, ShedHandle, ShedLayer};
use tower::{service_fn, Service, ServiceExt};
use tower_layer::Layer;

const TASKS: usize = 16;
const CALLS: usize = 500;
const LIMIT: usize = 3;
/// Bounds the whole test, so that a lost wake-up fails it instead of
/// hanging it; nothing is asserted about how long it takes.
const GUARD: Duration = Duration::from_secs(60);

/// An inner service that yields once mid-call and checks the limit.
fn inner(
    running: Arc<AtomicUsize>,
) -> impl Service<
    (),
    Response = (),
    Error = BoxError,
    Future = impl Future<Output = Result<(), BoxError>> + Send,
> + Clone
       + Send
       + 'static {
    service_fn(move |()| {
        let running = running.clone();
        async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            assert!(now <= LIMIT, "{now} calls ran at once");
            tokio::task::yield_now().await;
            running.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, BoxError>(())
        }
    })
}

async fn finish(shed: &ShedHandle, tasks: Vec<tokio::task::JoinHandle<usize>>) -> usize {
    let mut served = 0;
    for task in tasks {
        served += task.await.expect("no task panicked");
    }
    assert_eq!(shed.in_flight(), 0, "a slot leaked");
    assert_eq!(shed.queue_len(), 0, "a waiter leaked");
    served
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn back_pressure_under_contention_loses_no_wake_up_and_no_slot() {
    let layer = BackPressureLayer::builder()
        .algorithm(Fixed::new(LIMIT).unwrap())
        .build_back_pressure()
        .unwrap();
    let shed = layer.handle();
    let running = Arc::new(AtomicUsize::new(0));
    let tasks = (0..TASKS)
        .map(|_| {
            let mut service = layer.layer(inner(running.clone()));
            tokio::spawn(async move {
                for _ in 0..CALLS {
                    service.ready().await.unwrap().call(()).await.unwrap();
                }
                CALLS
            })
        })
        .collect();
    let served = tokio::time::timeout(GUARD, finish(&shed, tasks))
        .await
        .expect("every waiter was woken");
    assert_eq!(served, TASKS * CALLS, "back pressure never refuses");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_queue_under_contention_loses_no_wake_up_and_no_slot() {
    let layer = ShedLayer::builder()
        .algorithm(Fixed::new(LIMIT).unwrap())
        .queue(TASKS, Duration::from_secs(30))
        .queue_order(QueueOrder::AdaptiveLifo)
        .build()
        .unwrap();
    let shed = layer.handle();
    let running = Arc::new(AtomicUsize::new(0));
    let tasks = (0..TASKS)
        .map(|_| {
            let service = layer.layer(inner(running.clone()));
            tokio::spawn(async move {
                let mut served = 0;
                for _ in 0..CALLS {
                    if service.clone().oneshot(()).await.is_ok() {
                        served += 1;
                    }
                }
                served
            })
        })
        .collect();
    let served = tokio::time::timeout(GUARD, finish(&shed, tasks))
        .await
        .expect("every queued request was woken");
    // Each task has one request at a time, and the queue holds every
    // task, so nobody is refused.
    assert_eq!(served, TASKS * CALLS);
    assert_eq!(shed.shed(), 0);
}

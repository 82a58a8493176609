//! The deadline-aware queue, on paused time: a queued request runs when a
//! slot frees, is dropped without running once its deadline or the queue's
//! bound passes, and the queue is bounded and served in its order.

mod support;

use std::time::Duration;

use seawall_core::Deadline;
use seawall_shed::limit::Fixed;
use seawall_shed::{QueueOrder, Shed, ShedHandle, ShedLayer};
use tokio_test::{assert_pending, assert_ready, assert_ready_ok, task};
use tower::Service;
use tower_layer::Layer;
use tower_test::mock::{self, Spawn};

use support::{overloaded, Probe};

/// A request: its name and, maybe, its own deadline.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Job {
    name: &'static str,
    deadline: Option<Deadline>,
}

fn job(name: &'static str) -> Job {
    Job {
        name,
        deadline: None,
    }
}

type Mock = mock::Mock<Job, &'static str>;
type Handle = mock::Handle<Job, &'static str>;
type Svc = Shed<Mock, fn(&Job) -> Option<Deadline>>;

const MAX_WAIT: Duration = Duration::from_millis(100);

fn deadline_of(job: &Job) -> Option<Deadline> {
    job.deadline
}

/// A shedder of limit `limit` with a queue of `capacity`.
fn queued(limit: usize, capacity: usize, order: QueueOrder) -> (Spawn<Svc>, Handle, ShedHandle) {
    let layer = ShedLayer::builder()
        .algorithm(Fixed::new(limit).unwrap())
        .queue(capacity, MAX_WAIT)
        .queue_order(order)
        .deadline_from(deadline_of as fn(&Job) -> Option<Deadline>)
        .build()
        .unwrap();
    let shed = layer.handle();
    let (inner, handle) = mock::pair();
    (Spawn::new(layer.layer(inner)), handle, shed)
}

/// Calls through a service that is always ready at the shedder.
fn call(service: &mut Spawn<Svc>, request: Job) -> task::Spawn<<Svc as Service<Job>>::Future> {
    assert_ready_ok!(service.poll_ready());
    task::spawn(service.call(request))
}

#[tokio::test(start_paused = true)]
async fn a_queued_request_runs_when_a_slot_frees() {
    let (mut service, mut handle, shed) = queued(1, 4, QueueOrder::Fifo);
    let mut held = call(&mut service, job("held"));
    assert_pending!(held.poll());
    let (_, send_held) = handle.next_request().await.unwrap();

    let mut waiting = call(&mut service, job("waiting"));
    assert_pending!(waiting.poll());
    assert_eq!(shed.queue_len(), 1);

    tokio::time::advance(Duration::from_millis(40)).await;
    send_held.send_response("done");
    assert_ready_ok!(held.poll());
    assert!(waiting.is_woken(), "the release wakes the waiter");
    assert_eq!(shed.queue_len(), 0);
    assert_eq!(
        shed.in_flight(),
        1,
        "the slot passed straight to the waiter"
    );

    assert_pending!(waiting.poll());
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(request.name, "waiting");
    send.send_response("late but fine");
    assert_eq!(assert_ready_ok!(waiting.poll()), "late but fine");
    assert_eq!(shed.in_flight(), 0);
    assert_eq!(shed.shed(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_request_waits_at_most_the_queue_bound_and_never_runs_after() {
    let (mut service, mut handle, shed) = queued(1, 4, QueueOrder::Fifo);
    let _held = call(&mut service, job("held"));
    let _request = handle.next_request().await.unwrap();

    let mut waiting = call(&mut service, job("waiting"));
    assert_pending!(waiting.poll());
    tokio::time::advance(MAX_WAIT - Duration::from_millis(1)).await;
    assert!(!waiting.is_woken());
    assert_pending!(waiting.poll());

    tokio::time::advance(Duration::from_millis(1)).await;
    assert!(waiting.is_woken(), "its own timer wakes it");
    let error = assert_ready!(waiting.poll()).unwrap_err();
    let refusal = overloaded(&error);
    assert_eq!(refusal.waited(), Some(MAX_WAIT));
    assert_eq!(refusal.to_string(), "overloaded (limit 1, queued 100ms)");
    assert_eq!(shed.queue_len(), 0);
    assert_eq!(shed.shed(), 1);

    // It never reached the inner service: the next request to arrive
    // there is a new one.
    drop(_held);
    assert_eq!(shed.in_flight(), 0);
    let mut next = call(&mut service, job("next"));
    assert_pending!(next.poll());
    let (request, _send) = handle.next_request().await.unwrap();
    assert_eq!(request.name, "next");
}

#[tokio::test(start_paused = true)]
async fn the_requests_own_deadline_applies_when_it_is_sooner() {
    let (mut service, mut handle, _shed) = queued(1, 4, QueueOrder::Fifo);
    let _held = call(&mut service, job("held"));
    let _request = handle.next_request().await.unwrap();

    let soon = Job {
        name: "soon",
        deadline: Some(Deadline::after(Duration::from_millis(30))),
    };
    let mut waiting = call(&mut service, soon);
    assert_pending!(waiting.poll());
    tokio::time::advance(Duration::from_millis(30)).await;
    assert!(waiting.is_woken());
    let refusal = overloaded(&assert_ready!(waiting.poll()).unwrap_err());
    assert_eq!(refusal.waited(), Some(Duration::from_millis(30)));
}

#[tokio::test(start_paused = true)]
async fn a_later_deadline_does_not_extend_the_queue_bound() {
    let (mut service, mut handle, _shed) = queued(1, 4, QueueOrder::Fifo);
    let _held = call(&mut service, job("held"));
    let _request = handle.next_request().await.unwrap();

    let patient = Job {
        name: "patient",
        deadline: Some(Deadline::after(Duration::from_secs(10))),
    };
    let mut waiting = call(&mut service, patient);
    assert_pending!(waiting.poll());
    tokio::time::advance(MAX_WAIT).await;
    let refusal = overloaded(&assert_ready!(waiting.poll()).unwrap_err());
    assert_eq!(refusal.waited(), Some(MAX_WAIT));
}

#[tokio::test(start_paused = true)]
async fn a_request_already_past_its_deadline_is_refused_without_queueing() {
    let (mut service, mut handle, shed) = queued(1, 4, QueueOrder::Fifo);
    let _held = call(&mut service, job("held"));
    let _request = handle.next_request().await.unwrap();

    let late = Job {
        name: "late",
        deadline: Some(Deadline::after(Duration::ZERO)),
    };
    let mut refused = call(&mut service, late);
    assert_eq!(shed.queue_len(), 0, "never queued");
    let refusal = overloaded(&assert_ready!(refused.poll()).unwrap_err());
    assert_eq!(refusal.waited(), None);
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_refuses_at_once() {
    let (mut service, mut handle, shed) = queued(1, 2, QueueOrder::Fifo);
    let _held = call(&mut service, job("held"));
    let _request = handle.next_request().await.unwrap();
    let mut a = call(&mut service, job("a"));
    let mut b = call(&mut service, job("b"));
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    assert_eq!(shed.queue_len(), 2);

    let mut c = call(&mut service, job("c"));
    let refusal = overloaded(&assert_ready!(c.poll()).unwrap_err());
    assert_eq!(refusal.waited(), None);
    assert_eq!(shed.queue_len(), 2);
}

/// Queues `names` behind one held call, frees slots one by one, and
/// returns the order in which the queued requests reached the inner
/// service.
async fn served_order(
    order: QueueOrder,
    capacity: usize,
    names: &[&'static str],
) -> Vec<&'static str> {
    let (mut service, mut handle, shed) = queued(1, capacity, order);
    let mut held = call(&mut service, job("held"));
    assert_pending!(held.poll());
    let (_, mut send) = handle.next_request().await.unwrap();

    let mut waiting: Vec<_> = names
        .iter()
        .map(|name| call(&mut service, job(name)))
        .collect();
    for future in &mut waiting {
        assert_pending!(future.poll());
    }
    assert_eq!(shed.queue_len(), names.len());

    let mut served = Vec::new();
    send.send_response("done");
    assert_ready_ok!(held.poll());
    for _ in names {
        for future in &mut waiting {
            if future.is_woken() {
                let _ = future.poll();
            }
        }
        let (request, next) = handle.next_request().await.unwrap();
        served.push(request.name);
        send = next;
        send.send_response("done");
        for future in &mut waiting {
            if future.is_woken() {
                let _ = future.poll();
            }
        }
    }
    assert_eq!(shed.in_flight(), 0);
    served
}

#[tokio::test(start_paused = true)]
async fn fifo_serves_the_oldest_first() {
    let served = served_order(QueueOrder::Fifo, 8, &["a", "b", "c", "d"]).await;
    assert_eq!(served, ["a", "b", "c", "d"]);
}

#[tokio::test(start_paused = true)]
async fn lifo_serves_the_newest_first() {
    let served = served_order(QueueOrder::Lifo, 8, &["a", "b", "c", "d"]).await;
    assert_eq!(served, ["d", "c", "b", "a"]);
}

#[tokio::test(start_paused = true)]
async fn adaptive_lifo_turns_to_the_newest_once_half_full() {
    // Capacity 6: with 4, 3 waiting the queue is at least half full, served
    // newest first; with 2, then 1 waiting, oldest first.
    let served = served_order(QueueOrder::AdaptiveLifo, 6, &["a", "b", "c", "d"]).await;
    assert_eq!(served, ["d", "c", "a", "b"]);
}

#[tokio::test(start_paused = true)]
async fn newcomers_queue_behind_waiters_rather_than_take_a_slot_first() {
    let (mut service, mut handle, shed) = queued(1, 4, QueueOrder::Fifo);
    let mut held = call(&mut service, job("held"));
    assert_pending!(held.poll());
    let (_, send) = handle.next_request().await.unwrap();
    let mut first = call(&mut service, job("first"));
    assert_pending!(first.poll());

    // The slot frees and is handed to the waiter; a newcomer finds the
    // limit taken and queues.
    send.send_response("done");
    assert_ready_ok!(held.poll());
    let mut newcomer = call(&mut service, job("newcomer"));
    assert_pending!(newcomer.poll());
    assert_eq!(shed.queue_len(), 1);
    assert_pending!(first.poll());
    let (request, _send) = handle.next_request().await.unwrap();
    assert_eq!(request.name, "first");
}

#[tokio::test(start_paused = true)]
async fn dropping_a_queued_request_leaves_the_queue() {
    let (mut service, mut handle, shed) = queued(1, 4, QueueOrder::Fifo);
    let held = call(&mut service, job("held"));
    let _request = handle.next_request().await.unwrap();
    let mut waiting = call(&mut service, job("waiting"));
    assert_pending!(waiting.poll());
    assert_eq!(shed.queue_len(), 1);

    drop(waiting);
    assert_eq!(shed.queue_len(), 0);
    drop(held);
    assert_eq!(shed.in_flight(), 0);
    assert_eq!(shed.shed(), 0, "a dropped request is not a refusal");
}

#[tokio::test(start_paused = true)]
async fn a_slot_granted_to_a_dropped_request_goes_to_the_next() {
    let (mut service, mut handle, shed) = queued(1, 4, QueueOrder::Fifo);
    let mut held = call(&mut service, job("held"));
    assert_pending!(held.poll());
    let (_, send) = handle.next_request().await.unwrap();
    let mut first = call(&mut service, job("first"));
    let mut second = call(&mut service, job("second"));
    assert_pending!(first.poll());
    assert_pending!(second.poll());

    // The slot is granted to `first`, which is dropped before it runs.
    send.send_response("done");
    assert_ready_ok!(held.poll());
    assert!(first.is_woken());
    drop(first);
    assert!(second.is_woken(), "the slot moved on");
    assert_pending!(second.poll());
    let (request, _send) = handle.next_request().await.unwrap();
    assert_eq!(request.name, "second");
    assert_eq!(shed.in_flight(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_granted_request_whose_deadline_passed_is_dropped_without_running() {
    let (mut service, mut handle, shed) = queued(1, 4, QueueOrder::Fifo);
    let mut held = call(&mut service, job("held"));
    assert_pending!(held.poll());
    let (_, send) = handle.next_request().await.unwrap();
    let mut waiting = call(&mut service, job("waiting"));
    assert_pending!(waiting.poll());

    // The slot frees exactly at the deadline: the waiter is told it
    // expired, and the slot stays free.
    tokio::time::advance(MAX_WAIT).await;
    send.send_response("done");
    assert_ready_ok!(held.poll());
    let refusal = overloaded(&assert_ready!(waiting.poll()).unwrap_err());
    assert_eq!(refusal.waited(), Some(MAX_WAIT));
    assert_eq!(shed.in_flight(), 0);

    let mut next = call(&mut service, job("next"));
    assert_pending!(next.poll());
    let (request, _send) = handle.next_request().await.unwrap();
    assert_eq!(request.name, "next", "the waiter never reached the inner");
}

#[tokio::test(start_paused = true)]
async fn a_rising_limit_lets_waiters_in() {
    let probe = Probe::new(1);
    let layer = ShedLayer::builder()
        .algorithm(probe.clone())
        .queue(4, MAX_WAIT)
        .build()
        .unwrap();
    let shed = layer.handle();
    let (mut service, mut handle) = mock::spawn_layer::<&'static str, &'static str, _>(layer);

    assert_ready_ok!(service.poll_ready());
    let mut a = task::spawn(service.call("a"));
    assert_pending!(a.poll());
    let (_, send_a) = handle.next_request().await.unwrap();
    assert_ready_ok!(service.poll_ready());
    let mut b = task::spawn(service.call("b"));
    assert_ready_ok!(service.poll_ready());
    let mut c = task::spawn(service.call("c"));
    assert_pending!(b.poll());
    assert_pending!(c.poll());
    assert_eq!(shed.queue_len(), 2);

    // `a` finishes and its sample raises the limit to 3: both waiters get
    // a slot.
    probe.set_limit(3);
    send_a.send_response("a");
    assert_ready_ok!(a.poll());
    assert_eq!(shed.limit(), 3);
    assert_eq!(shed.queue_len(), 0);
    assert_eq!(shed.in_flight(), 2);
    assert!(b.is_woken() && c.is_woken());
}

#[tokio::test(start_paused = true)]
async fn a_queued_request_waits_for_its_own_clone_of_the_inner_service() {
    let (mut service, mut handle, shed) = queued(1, 4, QueueOrder::Fifo);
    let mut held = call(&mut service, job("held"));
    assert_pending!(held.poll());
    let (_, send) = handle.next_request().await.unwrap();
    let mut waiting = call(&mut service, job("waiting"));
    assert_pending!(waiting.poll());

    // Once it has a slot, the queued request polls the inner service's
    // readiness itself, holding the slot meanwhile.
    handle.allow(0);
    send.send_response("done");
    assert_ready_ok!(held.poll());
    assert_pending!(waiting.poll());
    assert_eq!(shed.in_flight(), 1);
    handle.allow(1);
    assert!(waiting.is_woken());
    assert_pending!(waiting.poll());
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(request.name, "waiting");
    send.send_response("ok");
    assert_ready_ok!(waiting.poll());
    assert_eq!(shed.in_flight(), 0);
}

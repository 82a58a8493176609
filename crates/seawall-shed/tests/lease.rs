//! A freed slot leaves its reference to the shedder as its thread's spare
//! for the next slot: slots of different shedders never mix, a slot handed
//! over from the queue counts where it belongs, and health entries go with
//! the layers, services and handles, not with the spare.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::time::Duration;

use seawall_core::health::HealthRegistry;
use seawall_shed::limit::Fixed;
use seawall_shed::{Overloaded, Shed, ShedLayer};
use tokio_test::{assert_pending, assert_ready, assert_ready_ok, task};
use tower::{service_fn, Service};
use tower_layer::Layer;
use tower_test::mock;

type Answer = fn(u32) -> Ready<Result<u32, Infallible>>;
type Echo = Shed<tower::util::ServiceFn<Answer>>;

fn echo(n: u32) -> Ready<Result<u32, Infallible>> {
    ready(Ok(n))
}

fn layer(name: &'static str, limit: usize) -> ShedLayer {
    ShedLayer::builder()
        .name(name)
        .algorithm(Fixed::new(limit).unwrap())
        .build()
        .unwrap()
}

fn service(layer: &ShedLayer) -> Echo {
    layer.layer(service_fn(echo as Answer))
}

/// Starts a call and returns its future unpolled, so its slot is held.
fn start(service: &mut Echo, n: u32) -> task::Spawn<<Echo as Service<u32>>::Future> {
    let mut ready = task::spawn(());
    assert_ready_ok!(ready.enter(|cx, _| service.poll_ready(cx)));
    task::spawn(service.call(n))
}

#[tokio::test(start_paused = true)]
async fn slots_of_two_shedders_on_one_thread_count_on_their_own() {
    let (narrow, wide) = (layer("narrow", 1), layer("wide", 2));
    let (mut a, mut b) = (service(&narrow), service(&wide));
    let (narrow_handle, wide_handle) = (narrow.handle(), wide.handle());
    // Interleaved, so that each slot finds the other shedder's reference
    // as its thread's spare.
    for n in 0..3 {
        assert_eq!(assert_ready_ok!(start(&mut a, n).poll()), n);
        assert_eq!(assert_ready_ok!(start(&mut b, n).poll()), n);
        assert_eq!((narrow_handle.in_flight(), wide_handle.in_flight()), (0, 0));
    }

    // A held slot of the narrow shedder fills it and leaves the wide one
    // free.
    let mut held = start(&mut a, 7);
    let refused = assert_ready!(start(&mut a.clone(), 8).poll()).unwrap_err();
    assert!(refused.is::<Overloaded>(), "{refused}");
    let mut one = start(&mut b, 9);
    let mut two = start(&mut b.clone(), 10);
    assert_eq!((narrow_handle.in_flight(), wide_handle.in_flight()), (1, 2));
    assert_eq!((narrow_handle.shed(), wide_handle.shed()), (1, 0));
    assert_eq!(assert_ready_ok!(two.poll()), 10);
    assert_eq!(assert_ready_ok!(one.poll()), 9);
    assert_eq!(assert_ready_ok!(held.poll()), 7);
    assert_eq!((narrow_handle.in_flight(), wide_handle.in_flight()), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn a_slot_handed_over_from_the_queue_counts_at_its_own_shedder() {
    let queued = ShedLayer::builder()
        .name("queued")
        .algorithm(Fixed::new(1).unwrap())
        .queue(4, Duration::from_secs(1))
        .build()
        .unwrap();
    let other = layer("other", 1);
    let (queued_handle, other_handle) = (queued.handle(), other.handle());
    let (inner, mut mock_handle) = mock::pair::<u32, u32>();
    let mut first = mock::Spawn::new(queued.layer(inner));
    let mut second = mock::Spawn::new(first.get_ref().clone());
    let mut elsewhere = service(&other);

    assert_ready_ok!(first.poll_ready());
    let mut running = task::spawn(first.call(1));
    assert_ready_ok!(second.poll_ready(), "the shedder is always ready");
    let mut waiting = task::spawn(second.call(2));
    assert_pending!(waiting.poll());
    assert_eq!(queued_handle.queue_len(), 1);

    // The other shedder's slot leaves its reference as the spare just
    // before the queued call is handed its slot.
    assert_eq!(assert_ready_ok!(start(&mut elsewhere, 5).poll()), 5);
    let (request, answer) = mock_handle.next_request().await.unwrap();
    assert_eq!(request, 1);
    answer.send_response(10);
    assert_eq!(assert_ready_ok!(running.poll()), 10);

    assert!(waiting.is_woken(), "the freed slot went to the queue");
    assert_pending!(waiting.poll());
    assert_eq!(
        (queued_handle.in_flight(), queued_handle.queue_len()),
        (1, 0)
    );
    assert_eq!(other_handle.in_flight(), 0);
    let (request, answer) = mock_handle.next_request().await.unwrap();
    assert_eq!(request, 2);
    answer.send_response(20);
    assert_eq!(assert_ready_ok!(waiting.poll()), 20);
    assert_eq!(
        (queued_handle.in_flight(), other_handle.in_flight()),
        (0, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn a_slot_may_outlive_every_service() {
    let lonely = layer("lonely", 1);
    let mut guarded = service(&lonely);
    let mut held = start(&mut guarded, 3);
    drop((lonely, guarded));
    // The slot holds the last reference; finishing the call drops it.
    assert_eq!(assert_ready_ok!(held.poll()), 3);
    drop(held);

    let fresh = layer("fresh", 1);
    let mut guarded = service(&fresh);
    assert_eq!(assert_ready_ok!(start(&mut guarded, 4).poll()), 4);
    assert_eq!(fresh.handle().in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_health_entry_goes_with_the_layer_its_services_and_handles() {
    let registry = HealthRegistry::new();
    let inventory = ShedLayer::builder()
        .name("inventory")
        .algorithm(Fixed::new(4).unwrap())
        .health(&registry)
        .build()
        .unwrap();
    let mut guarded = service(&inventory);
    let handle = inventory.handle();
    assert_eq!(assert_ready_ok!(start(&mut guarded, 1).poll()), 1);
    assert_eq!(registry.snapshot().len(), 1);

    // A service alone keeps the entry, and so does a handle alone, though
    // this thread's spare holds the shedder too.
    drop(inventory);
    assert_eq!(registry.snapshot().len(), 1, "held by the service");
    drop(guarded);
    assert_eq!(registry.snapshot().len(), 1, "held by the handle");
    drop(handle);
    assert!(registry.snapshot().is_empty());
}

#[tokio::test(start_paused = true)]
async fn back_pressure_services_hold_the_health_entry_too() {
    let registry = HealthRegistry::new();
    let pressure = ShedLayer::builder()
        .name("pressure")
        .algorithm(Fixed::new(2).unwrap())
        .health(&registry)
        .build_back_pressure()
        .unwrap();
    let mut guarded = mock::Spawn::new(pressure.layer(service_fn(echo as Answer)));
    assert_ready_ok!(guarded.poll_ready());
    assert_eq!(assert_ready_ok!(task::spawn(guarded.call(6)).poll()), 6);
    drop(pressure);
    assert_eq!(registry.snapshot().len(), 1, "held by the service");
    drop(guarded);
    assert!(registry.snapshot().is_empty());
}

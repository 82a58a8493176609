//! A permit that goes back leaves its reference to the bulkhead as its
//! thread's spare for the next permit: permits of different bulkheads never
//! mix, and health entries go with their layer, services and handles.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::task::{Context, Poll, Waker};

use seawall_bulkhead::{Bulkhead, BulkheadFull, BulkheadLayer};
use seawall_core::health::HealthRegistry;
use tower::{service_fn, Layer, Service};

type Answer = fn(u32) -> Ready<Result<u32, Infallible>>;

fn echo(n: u32) -> Ready<Result<u32, Infallible>> {
    ready(Ok(n))
}

type Guarded = Bulkhead<tower::util::ServiceFn<Answer>>;

fn service(layer: &BulkheadLayer) -> Guarded {
    layer.layer(service_fn(echo as Answer))
}

fn layer(name: &'static str, max_in_flight: usize) -> BulkheadLayer {
    BulkheadLayer::builder()
        .name(name)
        .max_in_flight(max_in_flight)
        .build()
        .unwrap()
}

/// Makes a call and returns its future unpolled: the permit is held.
fn start(
    service: &mut Guarded,
    n: u32,
) -> impl Future<Output = Result<u32, seawall_core::BoxError>> {
    let mut cx = Context::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut cx).is_ready());
    service.call(n)
}

fn finish(
    future: impl Future<Output = Result<u32, seawall_core::BoxError>>,
) -> Result<u32, seawall_core::BoxError> {
    let mut cx = Context::from_waker(Waker::noop());
    match std::pin::pin!(future).poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the answer is ready at once"),
    }
}

#[test]
fn permits_of_two_bulkheads_on_one_thread_count_on_their_own() {
    let (narrow, wide) = (layer("narrow", 1), layer("wide", 2));
    let (mut a, mut b) = (service(&narrow), service(&wide));
    let (narrow_handle, wide_handle) = (narrow.handle(), wide.handle());
    // Interleaved, so that each permit finds the other bulkhead's
    // reference as its thread's spare.
    for n in 0..3 {
        assert_eq!(finish(start(&mut a, n)).unwrap(), n);
        assert_eq!(finish(start(&mut b, n)).unwrap(), n);
        assert_eq!((narrow_handle.in_flight(), wide_handle.in_flight()), (0, 0));
    }

    // A held permit of the narrow bulkhead fills it, and leaves the wide
    // one free.
    let held = start(&mut a, 7);
    let mut c = a.clone();
    let refused = finish(start(&mut c, 8)).unwrap_err();
    assert!(refused.is::<BulkheadFull>(), "{refused}");
    let one = start(&mut b, 9);
    let two = start(&mut b.clone(), 10);
    assert_eq!((narrow_handle.in_flight(), wide_handle.in_flight()), (1, 2));
    assert_eq!(finish(two).unwrap(), 10);
    assert_eq!(finish(one).unwrap(), 9);
    assert_eq!(finish(held).unwrap(), 7);
    assert_eq!((narrow_handle.in_flight(), wide_handle.in_flight()), (0, 0));
}

#[test]
fn the_health_entry_goes_with_the_layer_its_services_and_handles() {
    let registry = HealthRegistry::new();
    let inventory = BulkheadLayer::builder()
        .name("inventory")
        .max_in_flight(4)
        .health(&registry)
        .build()
        .unwrap();
    let mut guarded = service(&inventory);
    let handle = inventory.handle();
    assert_eq!(finish(start(&mut guarded, 1)).unwrap(), 1);
    assert_eq!(registry.snapshot().len(), 1);

    // A service alone keeps the entry, and so does a handle alone, though
    // this thread's spare holds the bulkhead too.
    drop(inventory);
    assert_eq!(registry.snapshot().len(), 1, "held by the service");
    drop(guarded);
    assert_eq!(registry.snapshot().len(), 1, "held by the handle");
    drop(handle);
    assert!(registry.snapshot().is_empty());
}

#[cfg(feature = "http")]
#[test]
fn the_http_layers_services_hold_the_health_entry_too() {
    let registry = HealthRegistry::new();
    let http = BulkheadLayer::builder()
        .name("http")
        .max_in_flight(4)
        .health(&registry)
        .build()
        .unwrap()
        .into_http();
    let inner = service_fn(|_: http::Request<()>| {
        ready(Ok::<_, Infallible>(http::Response::new(String::new())))
    });
    let http_service = http.layer(inner);
    drop(http);
    assert_eq!(registry.snapshot().len(), 1, "held by the HTTP service");
    drop(http_service);
    assert!(registry.snapshot().is_empty());
}

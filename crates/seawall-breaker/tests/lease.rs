//! A finished call leaves its reference to the breaker as its thread's
//! spare for the next call: calls through different breakers never mix,
//! health entries go with their layer, and a spare keeps at most one
//! breaker's memory per thread.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

use seawall_breaker::{Breaker, BreakerConfig, BreakerState, CircuitBreaker, CircuitBreakerLayer};
use seawall_core::health::HealthRegistry;
use seawall_core::{Classify, FailureKind, Outcome};
use std::future::Future as _;
use tower::{service_fn, Layer, Service};

/// Answers `Ok(true)` for a success and `Ok(false)` for a failure, at once.
type Answer = fn(bool) -> Ready<Result<bool, Infallible>>;

fn answer(ok: bool) -> Ready<Result<bool, Infallible>> {
    ready(Ok(ok))
}

/// `false` is a failure.
#[derive(Debug, Clone, Copy)]
struct FalseFails;

impl Classify<bool, Infallible> for FalseFails {
    fn classify(&self, result: &Result<bool, Infallible>, _: std::time::Duration) -> Outcome {
        match result {
            Ok(true) => Outcome::Success,
            Ok(false) => Outcome::Failure(FailureKind::Error),
            Err(never) => match *never {},
        }
    }

    fn uses_elapsed(&self) -> bool {
        false
    }
}

type Guarded = CircuitBreaker<tower::util::ServiceFn<Answer>, FalseFails>;

fn layer(name: &'static str, trip_after: u32) -> CircuitBreakerLayer<FalseFails> {
    let config = BreakerConfig::builder()
        .name(name)
        .consecutive_failures(trip_after)
        .failure_rate(None)
        .build()
        .unwrap();
    CircuitBreakerLayer::new(config).with_classifier(FalseFails)
}

fn service(layer: &CircuitBreakerLayer<FalseFails>) -> Guarded {
    layer.layer(service_fn(answer as Answer))
}

/// One call, driven to its end on this thread; `None` when refused.
fn call(service: &mut Guarded, ok: bool) -> Option<bool> {
    let mut cx = Context::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut cx).is_ready());
    let mut future = std::pin::pin!(service.call(ok));
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(answer)) => Some(answer),
        Poll::Ready(Err(_)) => None,
        Poll::Pending => panic!("the answer is ready at once"),
    }
}

#[test]
fn calls_through_two_breakers_on_one_thread_count_on_their_own() {
    let (fragile, sturdy) = (layer("fragile", 3), layer("sturdy", 3));
    let (mut a, mut b) = (service(&fragile), service(&sturdy));
    // Interleaved, so that each call finds the other breaker's reference
    // as its thread's spare: a's failures must never land on b.
    for _ in 0..3 {
        assert_eq!(call(&mut a, false), Some(false));
        assert_eq!(call(&mut b, true), Some(true));
    }
    assert_eq!(fragile.handle().state(), BreakerState::Open);
    assert_eq!(call(&mut a, true), None, "refused");
    let stats = sturdy.handle().stats();
    assert_eq!(stats.state, BreakerState::Closed);
    assert_eq!((stats.calls, stats.failures), (3, 0));

    // The same breaker through two clones and a second service of the
    // layer, one after another: every call counts once.
    let mut c = b.clone();
    let mut d = service(&sturdy);
    for service in [&mut b, &mut c, &mut d] {
        assert_eq!(call(service, true), Some(true));
    }
    assert_eq!(sturdy.handle().stats().calls, 6);
}

#[test]
fn a_layers_health_entry_goes_with_the_layer_though_a_spare_remains() {
    let registry = HealthRegistry::new();
    let inventory = layer("inventory", 1).with_health(&registry);
    let memory: Weak<Breaker> = Arc::downgrade(inventory.breaker());
    let mut guarded = service(&inventory);
    let handle = guarded.handle();
    assert_eq!(call(&mut guarded, false), Some(false));
    assert_eq!(registry.snapshot().len(), 1);

    // The handle alone keeps the entry.
    drop((guarded, inventory));
    assert_eq!(registry.snapshot().len(), 1, "held by the handle");
    assert_eq!(handle.state(), BreakerState::Open);

    // With the handle gone the entry goes, though this thread's spare
    // still holds the open breaker's memory: it must not fail readiness.
    drop(handle);
    assert!(registry.snapshot().is_empty());
    assert!(memory.upgrade().is_some(), "kept as this thread's spare");

    // A call that ends through another breaker takes the spare's place,
    // and the first breaker's memory goes.
    let other = layer("other", 1);
    let mut other_service = service(&other);
    assert_eq!(call(&mut other_service, true), Some(true));
    assert!(memory.upgrade().is_none(), "at most one spare per thread");
}

#[test]
fn a_breaker_registered_by_hand_is_never_kept_as_a_spare() {
    let registry = HealthRegistry::new();
    let config = BreakerConfig::builder().name("by-hand").build().unwrap();
    let breaker = Arc::new(Breaker::new(&config));
    breaker.register_health(&registry);
    let memory = Arc::downgrade(&breaker);
    let mut service: Guarded =
        CircuitBreaker::with_classifier(service_fn(answer as Answer), breaker, FalseFails);
    assert_eq!(call(&mut service, true), Some(true));

    drop(service);
    assert!(memory.upgrade().is_none(), "no spare kept it");
    assert!(registry.snapshot().is_empty());
}

#[test]
fn the_last_reference_is_dropped_not_kept() {
    let short_lived = layer("short-lived", 1);
    let memory = Arc::downgrade(short_lived.breaker());
    let mut guarded = service(&short_lived);
    drop(short_lived);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(guarded.poll_ready(&mut cx).is_ready());
    let future = guarded.call(true);
    // The service goes first: the call's reference is the breaker's last
    // when it ends.
    drop(guarded);
    let mut future = std::pin::pin!(future);
    assert!(matches!(
        future.as_mut().poll(&mut cx),
        Poll::Ready(Ok(true))
    ));
    // The call released its reference as it ended.
    assert!(memory.upgrade().is_none());
}

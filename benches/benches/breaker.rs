//! seawall's circuit breaker against the `failsafe` crate's breaker and a
//! no-middleware baseline, every breaker closed: one thread, two threads
//! sharing one breaker, and the keyed layer finding one of 10,000 hosts.
//!
//! Run with `cargo bench -p seawall-benches --bench breaker`.
//!
//! The keyed case walks the hosts in a scrambled order, so most calls find
//! their host's breaker out of cache (10,000 breakers are about 18 MB): it
//! measures memory as much as code, and swings with what else shares the
//! machine's last-level cache.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use failsafe::CircuitBreaker as _;
use seawall_benches::{call_now, echo, two_threads};
use seawall_breaker::{
    BreakerConfig, CircuitBreakerLayer, KeyedBreakerConfig, KeyedCircuitBreakerLayer,
};
use seawall_core::{Classify, Outcome};
use tower::{service_fn, Layer, Service};

const HOSTS: usize = 10_000;

/// The baseline cannot fail, so every answer is a success. Like the
/// default classifier (which wants `BoxError` errors), it does not read
/// the elapsed time, so no call reads the clock.
#[derive(Debug, Clone, Copy)]
struct Succeeds;

impl Classify<u64, Infallible> for Succeeds {
    fn classify(&self, result: &Result<u64, Infallible>, _: Duration) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(never) => match *never {},
        }
    }

    fn uses_elapsed(&self) -> bool {
        false
    }
}

/// seawall's breaker with the default configuration.
fn seawall_layer() -> CircuitBreakerLayer<Succeeds> {
    CircuitBreakerLayer::new(BreakerConfig::default()).with_classifier(Succeeds)
}

/// failsafe's breaker with its default policy around the same work as
/// [`echo`]: its closest equivalent of a call is `call` with a closure.
fn failsafe_echo(
    breaker: failsafe::StateMachine<impl failsafe::failure_policy::FailurePolicy + Send + Sync, ()>,
) -> impl Service<u64, Response = u64, Error = failsafe::Error<()>> + Send {
    service_fn(move |n: u64| ready(breaker.call(|| Ok::<u64, ()>(n))))
}

fn one_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("breaker/1-thread");

    let mut baseline = echo();
    group.bench_function("baseline", |b| {
        b.iter(|| call_now(&mut baseline, black_box(1)))
    });

    // The baseline plus one `Arc` clone and drop per call: what keeping
    // the breaker alive for the response future costs at least, since that
    // future may outlive the service. It shows how much of seawall's time
    // is the host's price of two locked instructions.
    let shared = Arc::new(0_u64);
    let mut arc_round_trip = service_fn(move |n: u64| {
        let owner = Arc::clone(&shared);
        ready(Ok::<u64, Infallible>(n + *black_box(owner)))
    });
    group.bench_function("baseline-arc-round-trip", |b| {
        b.iter(|| call_now(&mut arc_round_trip, black_box(1)))
    });

    let mut failsafe = failsafe_echo(failsafe::Config::new().build());
    group.bench_function("failsafe", |b| {
        b.iter(|| call_now(&mut failsafe, black_box(1)))
    });

    let mut seawall = seawall_layer().layer(echo());
    group.bench_function("seawall", |b| {
        b.iter(|| call_now(&mut seawall, black_box(1)))
    });

    group.finish();
}

fn shared(c: &mut Criterion) {
    let mut group = c.benchmark_group("breaker/2-threads");

    group.bench_function("baseline", |b| {
        b.iter_custom(|iters| two_threads(echo, iters))
    });

    // failsafe's state machine is a handle to shared state: clones share it.
    let failsafe_breaker = failsafe::Config::new().build();
    group.bench_function("failsafe", |b| {
        b.iter_custom(|iters| two_threads(|| failsafe_echo(failsafe_breaker.clone()), iters))
    });

    let seawall = seawall_layer();
    group.bench_function("seawall", |b| {
        b.iter_custom(|iters| two_threads(|| seawall.layer(echo()), iters))
    });

    group.finish();
}

/// A request to one of many hosts.
type HostRequest = (&'static str, u64);

fn answer((_, n): HostRequest) -> Ready<Result<u64, Infallible>> {
    ready(Ok(n))
}

/// 10,000 host names, in a scrambled order so that consecutive calls do
/// not walk memory in the order the keys were added. Leaked: they live as
/// long as the bench.
fn hosts() -> Vec<&'static str> {
    let mut hosts: Vec<&'static str> = (0..HOSTS)
        .map(|i| &*Box::leak(format!("host-{i:05}.example.com").into_boxed_str()))
        .collect();
    // A fixed Fisher-Yates shuffle driven by a linear congruential
    // generator: the same order on every run.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for i in (1..hosts.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = (state >> 33) as usize % (i + 1);
        hosts.swap(i, j);
    }
    hosts
}

fn keyed(c: &mut Criterion) {
    let hosts = hosts();
    let mut group = c.benchmark_group("breaker/keyed");

    let mut baseline = service_fn(answer);
    let mut next = 0;
    group.bench_function("baseline", |b| {
        b.iter(|| {
            next = (next + 1) % HOSTS;
            call_now(&mut baseline, (black_box(hosts[next]), 1))
        })
    });

    let config = KeyedBreakerConfig::builder()
        .capacity(HOSTS)
        .build()
        .unwrap();
    let layer = KeyedCircuitBreakerLayer::new(config, |request: &HostRequest| request.0)
        .with_classifier(Succeeds);
    let handle = layer.handle();
    let mut seawall = layer.layer(service_fn(answer));
    for host in &hosts {
        call_now(&mut seawall, (*host, 0));
    }
    assert_eq!((handle.len(), handle.evictions()), (HOSTS, 0));
    let mut next = 0;
    group.bench_function("seawall", |b| {
        b.iter(|| {
            next = (next + 1) % HOSTS;
            call_now(&mut seawall, (black_box(hosts[next]), 1))
        })
    });
    // Every call found its host: none was added or evicted while timed.
    assert_eq!((handle.len(), handle.evictions()), (HOSTS, 0));

    // The map's part alone: hash, read lock, compare, clone and drop the
    // breaker's `Arc`, through the operator handle (which does not stamp
    // the key as used).
    let mut next = 0;
    group.bench_function("seawall-lookup-only", |b| {
        b.iter(|| {
            next = (next + 1) % HOSTS;
            handle.get(black_box(hosts[next])).is_some()
        })
    });

    // One breaker for every host, on the same requests: what the lookup
    // adds.
    let mut single = seawall_layer().layer(service_fn(answer));
    let mut next = 0;
    group.bench_function("seawall-single", |b| {
        b.iter(|| {
            next = (next + 1) % HOSTS;
            call_now(&mut single, (black_box(hosts[next]), 1))
        })
    });

    group.finish();
}

criterion_group!(benches, one_thread, shared, keyed);
criterion_main!(benches);

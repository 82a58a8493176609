//! seawall's bulkhead against tower's `GlobalConcurrencyLimitLayer` and a
//! no-middleware baseline: one thread, and two threads sharing one limit.
//!
//! Run with `cargo bench -p seawall-benches --bench bulkhead`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use seawall_benches::{call_now, echo};
use tower::{Layer, Service};

const PERMITS: usize = 1024;

fn one_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("bulkhead/1-thread");

    let mut baseline = echo();
    group.bench_function("baseline", |b| {
        b.iter(|| call_now(&mut baseline, black_box(1)))
    });

    let mut seawall = seawall_bulkhead::BulkheadLayer::new(PERMITS).layer(echo());
    group.bench_function("seawall", |b| {
        b.iter(|| call_now(&mut seawall, black_box(1)))
    });

    let mut tower_limit = tower::limit::GlobalConcurrencyLimitLayer::new(PERMITS).layer(echo());
    group.bench_function("tower", |b| {
        b.iter(|| call_now(&mut tower_limit, black_box(1)))
    });

    group.finish();
}

/// Two threads, each with its own service built from one shared layer, call
/// `iters` times each; the figure is the wall time of the slower thread.
#[allow(clippy::disallowed_methods)] // a bench measures the wall clock
fn two_threads<S>(make: impl Fn() -> S + Sync, iters: u64) -> Duration
where
    S: Service<u64, Response = u64> + Send,
    S::Error: std::fmt::Debug,
{
    let barrier = std::sync::Barrier::new(2);
    let times: Vec<Duration> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let mut service = make();
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..iters {
                        black_box(call_now(&mut service, black_box(i)));
                    }
                    start.elapsed()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a bench thread"))
            .collect()
    });
    times.into_iter().max().unwrap_or_default()
}

fn shared(c: &mut Criterion) {
    let mut group = c.benchmark_group("bulkhead/2-threads");

    group.bench_function("baseline", |b| {
        b.iter_custom(|iters| two_threads(echo, iters))
    });

    let tower_layer = tower::limit::GlobalConcurrencyLimitLayer::new(PERMITS);
    group.bench_function("tower", |b| {
        b.iter_custom(|iters| two_threads(|| tower_layer.layer(echo()), iters))
    });

    let seawall_layer = seawall_bulkhead::BulkheadLayer::new(PERMITS);
    group.bench_function("seawall", |b| {
        b.iter_custom(|iters| two_threads(|| seawall_layer.layer(echo()), iters))
    });

    group.finish();
}

criterion_group!(benches, one_thread, shared);
criterion_main!(benches);

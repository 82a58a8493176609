//! seawall's bulkhead against tower's `GlobalConcurrencyLimitLayer` and a
//! no-middleware baseline: one thread, and two threads sharing one limit.
//!
//! Run with `cargo bench -p seawall-benches --bench bulkhead`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use seawall_benches::{call_now, echo, two_threads};
use tower::Layer;

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

//! seawall's timeout against tower's and a no-middleware baseline, with an
//! inner service that answers at once.
//!
//! Run with `cargo bench -p seawall-benches --bench timeout`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use seawall_benches::{call_now, echo};
use tower::Layer;

const LIMIT: Duration = Duration::from_secs(30);

fn timeout(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let _context = runtime.enter();

    let mut group = c.benchmark_group("timeout");

    let mut baseline = echo();
    group.bench_function("baseline", |b| {
        b.iter(|| call_now(&mut baseline, black_box(1)))
    });

    let mut tower_timeout = tower::timeout::TimeoutLayer::new(LIMIT).layer(echo());
    group.bench_function("tower", |b| {
        b.iter(|| call_now(&mut tower_timeout, black_box(1)))
    });

    let mut seawall = seawall_timeout::TimeoutLayer::new(LIMIT).layer(echo());
    group.bench_function("seawall", |b| {
        b.iter(|| call_now(&mut seawall, black_box(1)))
    });

    group.finish();
}

criterion_group!(benches, timeout);
criterion_main!(benches);

//! seawall's shed layer against tower's `LoadShed` over
//! `GlobalConcurrencyLimitLayer` and a no-middleware baseline: one thread,
//! and two threads sharing one layer.
//!
//! What is timed is the happy path of each: `poll_ready`, `call` and the
//! response, which for seawall is admitting the call, and recording its
//! latency sample (two clock reads, a lock and an algorithm update) when it
//! finishes; a fixed limit learns nothing, so its calls skip all three. The
//! limits are far above the one or two calls in flight, so nothing is
//! shed.
//!
//! Run with `cargo bench -p seawall-benches --bench shed`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use seawall_benches::{call_now, echo, two_threads};
use seawall_shed::limit::Fixed;
use seawall_shed::ShedLayer;
use tower::Layer;

const LIMIT: usize = 1024;

fn tower_layer() -> tower::ServiceBuilder<
    tower::layer::util::Stack<
        tower::limit::GlobalConcurrencyLimitLayer,
        tower::layer::util::Stack<tower::load_shed::LoadShedLayer, tower::layer::util::Identity>,
    >,
> {
    tower::ServiceBuilder::new()
        .layer(tower::load_shed::LoadShedLayer::new())
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(LIMIT))
}

fn gradient() -> ShedLayer {
    ShedLayer::builder()
        .name("bench")
        .build()
        .expect("the default shed layer")
}

fn fixed() -> ShedLayer {
    ShedLayer::builder()
        .name("bench")
        .algorithm(Fixed::new(LIMIT).expect("a valid limit"))
        .build()
        .expect("a fixed-limit shed layer")
}

fn one_thread(c: &mut Criterion) {
    // The layers read tokio's clock, which needs a runtime context.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let _context = runtime.enter();
    let mut group = c.benchmark_group("shed/1-thread");

    let mut baseline = echo();
    group.bench_function("baseline", |b| {
        b.iter(|| call_now(&mut baseline, black_box(1)))
    });

    let mut tower_stack = tower_layer().service(echo());
    group.bench_function("tower", |b| {
        b.iter(|| call_now(&mut tower_stack, black_box(1)))
    });

    let mut seawall = gradient().layer(echo());
    group.bench_function("seawall-gradient", |b| {
        b.iter(|| call_now(&mut seawall, black_box(1)))
    });

    let mut seawall_fixed = fixed().layer(echo());
    group.bench_function("seawall-fixed", |b| {
        b.iter(|| call_now(&mut seawall_fixed, black_box(1)))
    });

    group.finish();
}

fn shared(c: &mut Criterion) {
    // No runtime here: `tokio::time::Instant::now` reads the system clock
    // when no runtime's clock is paused, and the happy path sets no timer.
    let mut group = c.benchmark_group("shed/2-threads");

    group.bench_function("baseline", |b| {
        b.iter_custom(|iters| two_threads(echo, iters))
    });

    let tower_shared = tower_layer();
    group.bench_function("tower", |b| {
        b.iter_custom(|iters| two_threads(|| tower_shared.service(echo()), iters))
    });

    let gradient_shared = gradient();
    let handle = gradient_shared.handle();
    let initial = handle.limit();
    group.bench_function("seawall-gradient", |b| {
        b.iter_custom(|iters| two_threads(|| gradient_shared.layer(echo()), iters))
    });
    // Two calls in flight at most, against a limit of 20: the service is
    // app-limited throughout, so the limit never moved and nothing was shed.
    assert_eq!((handle.limit(), handle.shed()), (initial, 0));

    let fixed_shared = fixed();
    group.bench_function("seawall-fixed", |b| {
        b.iter_custom(|iters| two_threads(|| fixed_shared.layer(echo()), iters))
    });

    group.finish();
}

criterion_group!(benches, one_thread, shared);
criterion_main!(benches);

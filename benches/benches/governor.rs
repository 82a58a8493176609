//! seawall's rate limiter against the `governor` crate and a no-op
//! baseline: one admitted check, without a key, with one key, and with
//! 10,000 keys held.
//!
//! Both limiters are driven at a fixed time (governor through its fake
//! clock, seawall through `check_after`, an offset from its origin), so
//! the figures are the limiter's cost, not the clock's. One more line,
//! `seawall-instant`, checks through `check_at` with a `tokio::time::Instant`
//! and so shows what turning an `Instant` into the limiter's time costs. The quota is one request a nanosecond with a
//! burst of `u32::MAX`: at a fixed time that admits about four billion
//! checks per bucket, more than a run makes, so every timed check is the
//! allowed path.
//!
//! Run with `cargo bench -p seawall-benches --bench governor`.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use governor::clock::FakeRelativeClock;
use seawall_governor::{Quota, RateLimitLayer, RateLimiter};

const KEYS: u64 = 10_000;
/// Room for every key with space to spare, so the timed loop never
/// evicts, while eviction stays on as it is in use.
const CAPACITY: usize = 16_384;

fn seawall_quota() -> Quota {
    Quota::with_period(Duration::from_nanos(1)).burst(u32::MAX)
}

fn governor_quota() -> governor::Quota {
    governor::Quota::with_period(Duration::from_nanos(1))
        .expect("a non-zero period")
        .allow_burst(NonZeroU32::MAX)
}

/// The baseline: what the loop, the key lookup in the prebuilt `Vec` and
/// returning a `Result` cost without a limiter.
#[inline(never)]
fn noop_check<K>(key: &K) -> Result<(), ()> {
    black_box(key);
    Ok(())
}

fn seawall_keyed() -> RateLimiter<u64> {
    RateLimitLayer::builder()
        .key_by(|request: &u64| Some(*request))
        .key_quota(seawall_quota())
        .capacity(CAPACITY)
        .build()
        .expect("a valid keyed limit")
        .limiter()
}

fn direct(c: &mut Criterion) {
    let mut group = c.benchmark_group("governor/direct");

    group.bench_function("baseline", |b| b.iter(|| noop_check(black_box(&()))));

    let governor =
        governor::RateLimiter::direct_with_clock(governor_quota(), FakeRelativeClock::default());
    group.bench_function("governor", |b| {
        b.iter(|| black_box(&governor).check().expect("allowed"))
    });

    let seawall = RateLimitLayer::new(seawall_quota()).limiter();
    group.bench_function("seawall", |b| {
        b.iter(|| {
            black_box(&seawall)
                .check_after(black_box(Duration::ZERO))
                .expect("allowed")
        })
    });

    let now = seawall.origin();
    group.bench_function("seawall-instant", |b| {
        b.iter(|| {
            black_box(&seawall)
                .check_at(black_box(now))
                .expect("allowed")
        })
    });

    group.finish();
}

fn keyed_one(c: &mut Criterion) {
    let mut group = c.benchmark_group("governor/keyed-1");
    let key = 7u64;

    group.bench_function("baseline", |b| b.iter(|| noop_check(black_box(&key))));

    let governor =
        governor::RateLimiter::dashmap_with_clock(governor_quota(), FakeRelativeClock::default());
    governor.check_key(&key).expect("allowed");
    group.bench_function("governor", |b| {
        b.iter(|| governor.check_key(black_box(&key)).expect("allowed"))
    });

    let seawall = seawall_keyed();
    let now = seawall.origin();
    seawall.check_key_at(&key, now).expect("allowed");
    group.bench_function("seawall", |b| {
        b.iter(|| {
            seawall
                .check_key_after(black_box(&key), black_box(Duration::ZERO))
                .expect("allowed")
        })
    });

    group.finish();
}

/// Calls `check` on the keys in turn, from a prebuilt `Vec`, so building
/// a key is not timed.
fn rotate<'k>(keys: &'k [u64]) -> impl FnMut() -> &'k u64 {
    let mut at = 0;
    move || {
        let key = &keys[at];
        at += 1;
        if at == keys.len() {
            at = 0;
        }
        key
    }
}

fn keyed_10k(c: &mut Criterion) {
    let mut group = c.benchmark_group("governor/keyed-10k");
    // Spread over the range rather than 0..10_000, as client addresses
    // would be.
    let keys: Vec<u64> = (0..KEYS)
        .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .collect();

    let mut next = rotate(&keys);
    group.bench_function("baseline", |b| b.iter(|| noop_check(black_box(next()))));

    let governor =
        governor::RateLimiter::dashmap_with_clock(governor_quota(), FakeRelativeClock::default());
    for key in &keys {
        governor.check_key(key).expect("allowed");
    }
    assert_eq!(governor.len(), keys.len());
    let mut next = rotate(&keys);
    group.bench_function("governor", |b| {
        b.iter(|| governor.check_key(black_box(next())).expect("allowed"))
    });

    let seawall = seawall_keyed();
    let now = seawall.origin();
    for key in &keys {
        seawall.check_key_at(key, now).expect("allowed");
    }
    assert_eq!(seawall.keys(), keys.len(), "every key held, none evicted");
    let mut next = rotate(&keys);
    group.bench_function("seawall", |b| {
        b.iter(|| {
            seawall
                .check_key_after(black_box(next()), black_box(Duration::ZERO))
                .expect("allowed")
        })
    });
    assert_eq!(seawall.evicted(), 0, "the timed loop never evicted");

    group.finish();
}

criterion_group!(benches, direct, keyed_one, keyed_10k);
criterion_main!(benches);

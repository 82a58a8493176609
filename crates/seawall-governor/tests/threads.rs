//! Real threads on real atomics, with time held by the test: however the
//! threads race, no quota admits more than its burst plus what the
//! elapsed time replenishes.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use seawall_governor::{KeyedRateLimitLayer, Quota, RateLimitLayer, RateLimiter};
use tokio::time::Instant;

const THREADS: usize = 4;

/// Runs `attempts` attempts across the threads, each given its number
/// among all of them; returns how many were admitted.
fn hammer(attempts: u64, attempt: impl Fn(u64) -> bool + Sync) -> u64 {
    let next = AtomicU64::new(0);
    let admitted = AtomicU64::new(0);
    let start = Barrier::new(THREADS);
    thread::scope(|scope| {
        for _ in 0..THREADS {
            let (attempt, next, admitted, start) = (&attempt, &next, &admitted, &start);
            scope.spawn(move || {
                start.wait();
                loop {
                    let number = next.fetch_add(1, Relaxed);
                    if number >= attempts {
                        break;
                    }
                    if attempt(number) {
                        admitted.fetch_add(1, Relaxed);
                    }
                }
            });
        }
    });
    admitted.into_inner()
}

/// The clock of the moving-time tests: it advances `step` nanoseconds
/// every 64 attempts, so the threads race at every moment, and a thread
/// that stalls comes back with a time older than the others' (which the
/// algorithm must also survive).
fn time(limiter: &RateLimiter<impl Sized>, attempt: u64, step: u64) -> Instant {
    limiter.origin() + Duration::from_nanos(attempt / 64 * step)
}

fn elapsed(attempts: u64, step: u64) -> u64 {
    (attempts - 1) / 64 * step
}

#[test]
fn threads_at_a_fixed_time_share_exactly_the_burst() {
    // The tight quota is written last, so a race on it is never undone,
    // and the loose one has tokens to spare for any race it loses.
    let limiter = RateLimitLayer::builder()
        .quota(Quota::per_second(1).burst(10_000).named("loose"))
        .quota(Quota::per_second(1).burst(50).named("tight"))
        .build()
        .unwrap()
        .limiter();
    let now = limiter.origin();
    let admitted = hammer(40_000, |_| limiter.check_at(now).is_ok());
    assert_eq!(admitted, 50);
}

#[test]
fn threads_on_a_moving_clock_stay_within_every_quota() {
    // One request a millisecond (burst 20), and 700 a second (burst 5).
    let limiter = RateLimitLayer::builder()
        .quota(
            Quota::per(1_000, Duration::from_secs(1))
                .burst(20)
                .named("a"),
        )
        .quota(Quota::per_second(700).burst(5).named("b"))
        .build()
        .unwrap()
        .limiter();
    let (attempts, step) = (200_000, 30_000);
    let admitted = hammer(attempts, |n| {
        limiter.check_at(time(&limiter, n, step)).is_ok()
    });

    let elapsed = elapsed(attempts, step);
    let a = 20 + elapsed / 1_000_000;
    let b = 5 + elapsed / 1_428_571;
    assert!(
        admitted <= a.min(b),
        "{admitted} admitted, at most {a} and {b}"
    );
    assert!(admitted > 0);
}

#[test]
fn threads_on_many_keys_stay_within_each_key_and_the_global_quota() {
    let layer: KeyedRateLimitLayer<_, u64> = RateLimitLayer::builder()
        .quota(Quota::per(1_000, Duration::from_secs(1)).burst(40))
        .key_by(|key: &u64| Some(*key))
        .key_quota(Quota::per(100, Duration::from_secs(1)).burst(3))
        .capacity(1_000)
        .build()
        .unwrap();
    let limiter = layer.limiter();
    let per_key: Vec<AtomicU64> = (0..8).map(|_| AtomicU64::new(0)).collect();
    let (attempts, step) = (200_000, 30_000);
    let admitted = hammer(attempts, |n| {
        let key = n % 8;
        let admitted = limiter.check_key_at(&key, time(&limiter, n, step)).is_ok();
        if admitted {
            per_key[key as usize].fetch_add(1, Relaxed);
        }
        admitted
    });

    let elapsed = elapsed(attempts, step);
    let global = 40 + elapsed / 1_000_000;
    assert!(admitted <= global, "{admitted} admitted, at most {global}");
    let key_bound = 3 + elapsed / 10_000_000;
    for (key, count) in per_key.iter().enumerate() {
        let count = count.load(Relaxed);
        assert!(
            count <= key_bound,
            "key {key}: {count}, at most {key_bound}"
        );
    }
}

#[test]
fn threads_adding_and_evicting_keys_keep_the_capacity_and_the_global_quota() {
    let layer: KeyedRateLimitLayer<_, u64> = RateLimitLayer::builder()
        .quota(Quota::per(1_000, Duration::from_secs(1)).burst(100))
        .key_by(|key: &u64| Some(*key))
        .key_quota(Quota::per_second(1))
        .capacity(16)
        .build()
        .unwrap();
    let limiter = layer.limiter();
    let (attempts, step) = (200_000, 30_000);
    let admitted = hammer(attempts, |n| {
        // Keys spread so that most attempts add a key.
        let key = n.wrapping_mul(0x9E37_79B9) % 4_096;
        let admitted = limiter.check_key_at(&key, time(&limiter, n, step)).is_ok();
        assert!(limiter.keys() <= 16);
        admitted
    });
    let global = 100 + elapsed(attempts, step) / 1_000_000;
    assert!(admitted <= global, "{admitted} admitted, at most {global}");
    assert!(limiter.evicted() > 0);
}

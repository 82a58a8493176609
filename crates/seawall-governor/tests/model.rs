//! The GCRA against a leaky bucket kept in `u128` nanoseconds, over random
//! arrival times: the same decisions, the same retry times to the
//! nanosecond, the same headroom.

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;
use seawall_core::rejection::Rejection;
use seawall_governor::{KeyedRateLimitLayer, Quota, RateLimitLayer, RateLimited};

/// A leaky bucket: each request pours `interval` of water into a bucket
/// of `capacity` (burst × interval) that drains one nanosecond per
/// nanosecond; a request that would overflow it is refused.
#[derive(Debug, Clone)]
struct Bucket {
    interval: u128,
    capacity: u128,
    level: u128,
    last: u128,
}

impl Bucket {
    fn new(interval: u128, burst: u128) -> Self {
        Bucket {
            interval,
            capacity: interval * burst,
            level: 0,
            last: 0,
        }
    }

    fn drain(&mut self, now: u128) {
        self.level = self.level.saturating_sub(now - self.last);
        self.last = now;
    }

    /// How long until a request fits, after draining to `now`.
    fn wait(&mut self, now: u128) -> u128 {
        self.drain(now);
        (self.level + self.interval).saturating_sub(self.capacity)
    }

    fn pour(&mut self) {
        self.level += self.interval;
    }

    fn headroom(&mut self, now: u128) -> u128 {
        self.drain(now);
        (self.capacity - self.level) / self.interval
    }
}

/// A quota and the arrival times to offer it, as gaps in thousandths of
/// its interval.
fn quota() -> impl Strategy<Value = (u32, u64, u32)> {
    (1u32..=20, 1u64..=5_000_000_000, 1u32..=10)
}

fn gaps() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(
        prop_oneof![3 => Just(0u32), 5 => 0u32..1_500, 1 => 0u32..20_000],
        1..150,
    )
}

fn bucket_of(policy: &seawall_governor::error::QuotaPolicy) -> Bucket {
    let window = policy.window().as_nanos();
    let burst = u128::from(policy.limit());
    Bucket::new(window / burst, burst)
}

fn retry(refusal: &RateLimited) -> u128 {
    refusal.retry_after().unwrap().as_nanos()
}

/// The decision of several buckets together: every one must take the
/// request, and the wait is the longest, the first such bucket binding.
fn decide(buckets: &mut [&mut Bucket], now: u128) -> Result<(), (u128, usize)> {
    let mut worst: Option<(u128, usize)> = None;
    for (index, bucket) in buckets.iter_mut().enumerate() {
        let wait = bucket.wait(now);
        if wait > 0 && worst.is_none_or(|(longest, _)| wait > longest) {
            worst = Some((wait, index));
        }
    }
    if let Some(worst) = worst {
        return Err(worst);
    }
    for bucket in buckets.iter_mut() {
        bucket.pour();
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn one_quota_matches_the_leaky_bucket((count, period, burst) in quota(), gaps in gaps()) {
        let quota = Quota::per(count, Duration::from_nanos(period)).burst(burst);
        let limiter = RateLimitLayer::builder().quota(quota).build().unwrap().limiter();
        let mut bucket = bucket_of(limiter.global_quotas().next().unwrap());
        let mut now = 0u128;
        for gap in gaps {
            now += bucket.interval * u128::from(gap) / 1_000;
            let at = limiter.origin() + Duration::from_nanos(now as u64);
            prop_assert_eq!(
                u128::from(limiter.headroom_at(at).unwrap()),
                bucket.headroom(now)
            );
            let expected = decide(&mut [&mut bucket], now);
            match (limiter.check_at(at), expected) {
                (Ok(()), Ok(())) => {}
                (Err(refusal), Err((wait, _))) => prop_assert_eq!(retry(&refusal), wait),
                (actual, expected) => prop_assert!(false, "at {now}: {actual:?}, model {expected:?}"),
            }
        }
    }

    #[test]
    fn two_quotas_match_two_buckets_that_both_must_take_it(
        first in quota(),
        second in quota(),
        gaps in gaps(),
    ) {
        let limiter = RateLimitLayer::builder()
            .quota(Quota::per(first.0, Duration::from_nanos(first.1)).burst(first.2).named("a"))
            .quota(Quota::per(second.0, Duration::from_nanos(second.1)).burst(second.2).named("b"))
            .build()
            .unwrap()
            .limiter();
        let policies: Vec<_> = limiter.global_quotas().cloned().collect();
        let (mut a, mut b) = (bucket_of(&policies[0]), bucket_of(&policies[1]));
        let step = a.interval.min(b.interval);
        let mut now = 0u128;
        for gap in gaps {
            now += step * u128::from(gap) / 1_000;
            let at = limiter.origin() + Duration::from_nanos(now as u64);
            let expected = decide(&mut [&mut a, &mut b], now);
            match (limiter.check_at(at), expected) {
                (Ok(()), Ok(())) => {}
                (Err(refusal), Err((wait, binding))) => {
                    prop_assert_eq!(retry(&refusal), wait);
                    prop_assert_eq!(refusal.policy(), Some(&policies[binding]));
                }
                (actual, expected) => prop_assert!(false, "at {now}: {actual:?}, model {expected:?}"),
            }
        }
    }

    #[test]
    fn keys_and_a_global_quota_match_a_bucket_per_key_and_one_for_all(
        per_key in quota(),
        global in quota(),
        arrivals in prop::collection::vec((0u32..1_500, 0u8..4), 1..150),
    ) {
        let layer: KeyedRateLimitLayer<_, u8> = RateLimitLayer::builder()
            .quota(Quota::per(global.0, Duration::from_nanos(global.1)).burst(global.2))
            .key_by(|key: &u8| Some(*key))
            .key_quota(Quota::per(per_key.0, Duration::from_nanos(per_key.1)).burst(per_key.2))
            .build()
            .unwrap();
        let limiter = layer.limiter();
        let mut all = bucket_of(limiter.global_quotas().next().unwrap());
        let fresh = bucket_of(limiter.key_quota().unwrap());
        let mut keys: HashMap<u8, Bucket> = HashMap::new();
        let step = all.interval.min(fresh.interval);
        let mut now = 0u128;
        for (gap, key) in arrivals {
            now += step * u128::from(gap) / 1_000;
            let at = limiter.origin() + Duration::from_nanos(now as u64);
            let mine = keys.entry(key).or_insert_with(|| fresh.clone());
            let expected = decide(&mut [mine, &mut all], now);
            match (limiter.check_key_at(&key, at), expected) {
                (Ok(()), Ok(())) => {}
                (Err(refusal), Err((wait, binding))) => {
                    prop_assert_eq!(retry(&refusal), wait);
                    let name = refusal.policy().unwrap().name().to_owned();
                    prop_assert_eq!(name, ["per_key", "global"][binding]);
                }
                (actual, expected) => prop_assert!(false, "at {now}: {actual:?}, model {expected:?}"),
            }
        }
    }

    #[test]
    fn offsets_and_instants_decide_alike(
        (count, period, burst) in quota(),
        arrivals in prop::collection::vec((0u32..1_500, 0u8..4), 1..150),
    ) {
        let quota = Quota::per(count, Duration::from_nanos(period)).burst(burst);
        let build = || -> seawall_governor::RateLimiter<u8> {
            RateLimitLayer::builder()
                .quota(quota.clone())
                .key_by(|key: &u8| Some(*key))
                .key_quota(quota.clone())
                .build()
                .unwrap()
                .limiter()
        };
        let (by_instant, by_offset) = (build(), build());
        let mut now = 0u64;
        for (gap, key) in arrivals {
            now += period * u64::from(gap) / 1_000;
            let offset = Duration::from_nanos(now);
            let at = by_instant.origin() + offset;
            prop_assert_eq!(by_instant.check_at(at), by_offset.check_after(offset));
            prop_assert_eq!(
                by_instant.check_key_at(&key, at),
                by_offset.check_key_after(&key, offset)
            );
        }
    }
}

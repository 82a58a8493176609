//! The keyed layer the observability tests share.

use seawall_governor::{KeyedRateLimitLayer, Quota, RateLimitLayer};

pub(crate) type ByValue = fn(&u32) -> Option<u32>;

/// Named "api": ten a second overall, one a minute per key; key 0 stands
/// for a request without a key.
pub(crate) fn keyed(capacity: usize) -> KeyedRateLimitLayer<ByValue, u32> {
    RateLimitLayer::builder()
        .name("api")
        .quota(Quota::per_second(10).named("global"))
        .key_by((|n: &u32| if *n == 0 { None } else { Some(*n) }) as ByValue)
        .key_quota(Quota::per_minute(1).named("client"))
        .capacity(capacity)
        .build()
        .unwrap()
}

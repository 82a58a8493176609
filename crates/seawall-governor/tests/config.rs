//! Invalid configurations are errors that name the field.

use std::time::Duration;

use seawall_governor::{ConfigError, KeyedBuilder, Quota, RateLimitLayer};

type ByValue = fn(&u32) -> Option<u32>;

fn keyed() -> KeyedBuilder<ByValue, u32> {
    RateLimitLayer::builder().key_by((|n: &u32| Some(*n)) as ByValue)
}

fn direct(quota: Quota) -> ConfigError {
    RateLimitLayer::builder().quota(quota).build().unwrap_err()
}

#[test]
fn a_zero_rate_names_the_rate() {
    let error = direct(Quota::per_second(0));
    assert_eq!(error.field(), "rate");
    assert_eq!(
        error.to_string(),
        "quota \"global\": rate must be at least 1 per period, got 0"
    );
    let error = direct(Quota::per(10, Duration::from_nanos(5)));
    assert_eq!(error.field(), "rate");
    assert_eq!(
        error.to_string(),
        "quota \"global\": at most one request per nanosecond, got 10 per 5ns"
    );
    let error = direct(Quota::with_period(Duration::ZERO).named("steady"));
    assert_eq!(error.field(), "rate");
    assert_eq!(
        error.to_string(),
        "quota \"steady\": the period must be greater than zero"
    );
}

#[test]
fn a_zero_or_endless_burst_names_the_burst() {
    let error = direct(Quota::per_second(5).burst(0));
    assert_eq!(error.field(), "burst");
    assert_eq!(
        error.to_string(),
        "quota \"global\": burst must be at least 1, got 0"
    );
    let error = direct(Quota::per(1, Duration::from_secs(3_600 * 24 * 365)).burst(1_000));
    assert_eq!(error.field(), "burst");
}

#[test]
fn a_zero_capacity_names_the_capacity() {
    let error = keyed()
        .key_quota(Quota::per_second(1))
        .capacity(0)
        .build()
        .unwrap_err();
    assert_eq!(error.field(), "capacity");
    assert_eq!(error.to_string(), "capacity must be at least 1, got 0");
}

#[test]
fn a_keyed_limit_needs_its_quota() {
    let error = keyed().build().unwrap_err();
    assert_eq!(error.field(), "key_quota");
    let error = keyed().key_quota(Quota::per_second(0)).build().unwrap_err();
    assert_eq!(error.field(), "rate");
    assert!(
        error.to_string().starts_with("quota \"per_key\""),
        "{error}"
    );
}

#[test]
fn quotas_are_required_bounded_and_distinct() {
    let none = RateLimitLayer::builder().build().unwrap_err();
    assert_eq!(none.field(), "quota");
    let mut many = RateLimitLayer::builder();
    for n in 0..5 {
        many = many.quota(Quota::per_second(1).named(format!("q{n}")));
    }
    assert_eq!(many.build().unwrap_err().field(), "quota");
    let twins = RateLimitLayer::builder()
        .quota(Quota::per_second(1))
        .quota(Quota::per_minute(10))
        .build()
        .unwrap_err();
    assert_eq!(twins.field(), "quota");
    assert_eq!(
        twins.to_string(),
        "two quotas are named \"global\"; tell them apart with Quota::named"
    );
    let clash = keyed()
        .quota(Quota::per_second(1).named("same"))
        .key_quota(Quota::per_second(1).named("same"))
        .build()
        .unwrap_err();
    assert_eq!(clash.field(), "quota");
    let empty = direct(Quota::per_second(1).named(""));
    assert_eq!(empty.field(), "quota");
}

#[test]
fn waits_and_jitter_are_checked() {
    let zero = RateLimitLayer::builder()
        .quota(Quota::per_second(1))
        .wait(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(zero.field(), "wait");
    let jitter_alone = RateLimitLayer::builder()
        .quota(Quota::per_second(1))
        .jitter(Duration::from_millis(5))
        .build()
        .unwrap_err();
    assert_eq!(jitter_alone.field(), "jitter");
    let keyed_wait = RateLimitLayer::builder()
        .wait(Duration::from_secs(1))
        .key_by::<ByValue, u32>(|n: &u32| Some(*n))
        .key_quota(Quota::per_second(1))
        .build()
        .unwrap_err();
    assert_eq!(keyed_wait.field(), "wait");
}

#[test]
#[should_panic(expected = "invalid rate limit: quota \"global\": burst must be at least 1")]
fn the_panicking_constructor_says_why() {
    let _ = RateLimitLayer::new(Quota::per_second(1).burst(0));
}

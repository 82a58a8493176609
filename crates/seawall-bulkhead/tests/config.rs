//! Configuration is checked when built, and errors name the field.

use std::time::Duration;

use seawall_bulkhead::{BulkheadLayer, ConfigError, DEFAULT_RETRY_AFTER};

/// A request is the name of its tenant.
type Request = &'static str;

fn tenant(request: &Request) -> Option<&str> {
    Some(request)
}

fn assert_error(result: Result<impl std::fmt::Debug, ConfigError>, field: &str, says: &str) {
    let error = result.expect_err("the configuration is invalid");
    assert_eq!(error.field(), field);
    let message = error.to_string();
    assert!(message.contains(says), "{message:?} does not say {says:?}");
    assert!(!message.ends_with('.'), "no trailing period: {message:?}");
    assert!(
        message.starts_with(|c: char| !c.is_uppercase()),
        "lowercase: {message:?}"
    );
}

#[test]
fn max_in_flight_is_required() {
    assert_error(
        BulkheadLayer::builder().build(),
        "max_in_flight",
        "must be set",
    );
}

#[test]
fn zero_permits_is_an_error() {
    assert_error(
        BulkheadLayer::builder().max_in_flight(0).build(),
        "max_in_flight",
        "at least 1, got 0",
    );
}

#[test]
#[should_panic(expected = "max_in_flight must be at least 1")]
fn new_panics_on_zero_permits() {
    let _ = BulkheadLayer::new(0);
}

#[test]
fn zero_wait_is_an_error() {
    assert_error(
        BulkheadLayer::builder()
            .max_in_flight(1)
            .wait(Duration::ZERO)
            .build(),
        "wait",
        "greater than zero",
    );
}

#[test]
fn guaranteed_shares_must_fit_the_capacity() {
    assert_error(
        BulkheadLayer::builder()
            .max_in_flight(5)
            .partition("a", 3)
            .partition("b", 3)
            .partition_key(tenant)
            .build(),
        "partition",
        "at most max_in_flight (5), got 6",
    );
}

#[test]
fn guaranteed_shares_may_fill_the_capacity() {
    let layer = BulkheadLayer::builder()
        .max_in_flight(5)
        .partition("a", 3)
        .partition("b", 2)
        .partition_key(tenant)
        .build()
        .expect("an empty pool is allowed");
    assert_eq!(layer.handle().partition_in_flight("b"), Some(0));
}

#[test]
fn duplicate_partition_names_are_an_error() {
    assert_error(
        BulkheadLayer::builder()
            .max_in_flight(5)
            .partition("a", 1)
            .partition("a", 1)
            .partition_key(tenant)
            .build(),
        "partition",
        "\"a\" is defined twice",
    );
}

#[test]
fn empty_partition_names_are_an_error() {
    assert_error(
        BulkheadLayer::builder()
            .max_in_flight(5)
            .partition("", 1)
            .partition_key(tenant)
            .build(),
        "partition",
        "must not be empty",
    );
}

#[test]
fn a_partition_ceiling_must_lie_between_its_share_and_the_capacity() {
    for max in [1, 11] {
        assert_error(
            BulkheadLayer::builder()
                .max_in_flight(10)
                .partition_with_max("a", 2, max)
                .partition_key(tenant)
                .build(),
            "partition",
            &format!("must be in 2..=10, got {max}"),
        );
    }
    assert_error(
        BulkheadLayer::builder()
            .max_in_flight(10)
            .partition_with_max("a", 0, 0)
            .partition_key(tenant)
            .build(),
        "partition",
        "must be in 1..=10, got 0",
    );
}

#[test]
fn partitions_need_a_key() {
    assert_error(
        BulkheadLayer::builder()
            .max_in_flight(5)
            .partition("a", 1)
            .build(),
        "partition_key",
        "need a partition_key",
    );
}

#[test]
fn waiting_cannot_be_combined_with_partitions() {
    assert_error(
        BulkheadLayer::builder()
            .max_in_flight(5)
            .wait(Duration::from_millis(10))
            .partition("a", 1)
            .partition_key(tenant)
            .build(),
        "wait",
        "cannot be combined with partitions",
    );
}

#[test]
fn a_key_without_partitions_is_allowed() {
    let layer = BulkheadLayer::builder()
        .max_in_flight(5)
        .partition_key(tenant)
        .build()
        .expect("every request uses the pool");
    assert_eq!(layer.handle().max_in_flight(), 5);
}

#[test]
fn defaults() {
    let layer = BulkheadLayer::new(3);
    let handle = layer.handle();
    assert_eq!(handle.name(), "bulkhead");
    assert_eq!(handle.max_in_flight(), 3);
    assert_eq!(handle.in_flight(), 0);
    assert_eq!(DEFAULT_RETRY_AFTER, Duration::from_secs(1));
    let debug = format!("{layer:?}");
    assert!(debug.contains("max_in_flight: 3"), "{debug}");
}

//! Configuration is checked when built, and errors name the field.

mod support;

use std::time::Duration;

use seawall_core::Deadline;
use seawall_shed::limit::{Aimd, Fixed};
use seawall_shed::{
    BackPressureLayer, ConfigError, QueueOrder, ShedLayer, DEFAULT_RETRY_AFTER, MAX_QUEUE_CAPACITY,
};

use support::Probe;

const WAIT: Duration = Duration::from_millis(50);

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

fn no_deadline(_: &u32) -> Option<Deadline> {
    None
}

#[test]
fn the_queue_capacity_must_be_in_range() {
    assert_error(
        ShedLayer::builder().queue(0, WAIT).build(),
        "queue",
        "within 1..=4096, got 0",
    );
    assert_error(
        ShedLayer::builder()
            .queue(MAX_QUEUE_CAPACITY + 1, WAIT)
            .build(),
        "queue",
        "got 4097",
    );
    ShedLayer::builder()
        .queue(MAX_QUEUE_CAPACITY, WAIT)
        .build()
        .expect("the largest queue is allowed");
}

#[test]
fn the_queue_bound_must_be_greater_than_zero() {
    assert_error(
        ShedLayer::builder().queue(8, Duration::ZERO).build(),
        "queue",
        "greater than zero",
    );
}

#[test]
fn queue_settings_need_a_queue() {
    assert_error(
        ShedLayer::builder().queue_order(QueueOrder::Lifo).build(),
        "queue_order",
        "needs a queue",
    );
    assert_error(
        ShedLayer::builder().deadline_from(no_deadline).build(),
        "deadline_from",
        "needs a queue",
    );
}

#[test]
fn back_pressure_refuses_queue_settings() {
    assert_error(
        BackPressureLayer::builder()
            .queue(8, WAIT)
            .build_back_pressure(),
        "queue",
        "shedding layer only",
    );
    assert_error(
        BackPressureLayer::builder()
            .queue_order(QueueOrder::Fifo)
            .build_back_pressure(),
        "queue_order",
        "shedding layer's queue only",
    );
    assert_error(
        BackPressureLayer::builder()
            .deadline_from(no_deadline)
            .build_back_pressure(),
        "deadline_from",
        "bound a back-pressure wait with a timeout",
    );
}

#[test]
fn an_algorithm_must_start_with_at_least_one_slot() {
    assert_error(
        ShedLayer::builder().algorithm(Probe::new(0)).build(),
        "algorithm",
        "the probe algorithm's initial limit must be at least 1, got 0",
    );
}

#[test]
fn defaults() {
    let layer = ShedLayer::builder().build().unwrap();
    let handle = layer.handle();
    assert_eq!(handle.name(), "shed");
    assert_eq!(handle.algorithm(), "gradient");
    assert_eq!(handle.limit(), 20);
    assert_eq!(handle.in_flight(), 0);
    assert_eq!(handle.queue_len(), 0);
    assert!(handle.is_enforced());
    assert_eq!(DEFAULT_RETRY_AFTER, Duration::from_secs(1));
    assert_eq!(QueueOrder::default(), QueueOrder::AdaptiveLifo);

    let debug = format!("{layer:?}");
    assert!(debug.contains("name: \"shed\""), "{debug}");
    assert!(debug.contains("algorithm: \"gradient\""), "{debug}");
}

#[test]
fn the_builder_takes_every_algorithm() {
    let aimd = ShedLayer::builder()
        .algorithm(Aimd::builder().build().unwrap())
        .build()
        .unwrap();
    assert_eq!(aimd.handle().algorithm(), "aimd");
    let fixed = BackPressureLayer::builder()
        .name("client")
        .algorithm(Fixed::new(9).unwrap())
        .build_back_pressure()
        .unwrap();
    assert_eq!(fixed.handle().limit(), 9);
    assert_eq!(fixed.handle().name(), "client");

    let builder = ShedLayer::builder()
        .algorithm(Fixed::new(3).unwrap())
        .queue(4, WAIT);
    let debug = format!("{builder:?}");
    assert!(debug.contains("algorithm: \"fixed\""), "{debug}");
    assert!(debug.contains("queue: Some((4, 50ms))"), "{debug}");
}

#[test]
fn failing_readiness_while_shedding_needs_health_and_a_sane_hold() {
    let field = "fail_readiness_while_shedding";
    assert_error(
        ShedLayer::builder()
            .fail_readiness_while_shedding(Duration::from_secs(1))
            .build(),
        field,
        "needs health(registry)",
    );
    let registry = seawall_core::health::HealthRegistry::new();
    for hold in [Duration::ZERO, Duration::from_secs(3601)] {
        assert_error(
            ShedLayer::builder()
                .health(&registry)
                .fail_readiness_while_shedding(hold)
                .build(),
            field,
            "more than 0s and at most 3600s",
        );
    }
    assert!(
        registry.snapshot().is_empty(),
        "nothing registered on error"
    );
}

//! Configuration: validated when built, never a panic at request time.

use std::time::Duration;

use seawall_timeout::error::ConfigError;
use seawall_timeout::TimeoutLayer;

use crate::support::ms;

#[test]
fn a_zero_timeout_is_an_error_naming_the_field() {
    let error = TimeoutLayer::builder()
        .timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(matches!(error, ConfigError::Zero { .. }));
    assert_eq!(error.field(), "timeout");
    assert_eq!(
        error.to_string(),
        "timeout must be greater than zero, got 0s"
    );
}

#[test]
fn a_zero_ready_timeout_is_an_error_naming_the_field() {
    let error = TimeoutLayer::builder()
        .timeout(ms(100))
        .ready_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(matches!(error, ConfigError::Zero { .. }));
    assert_eq!(error.field(), "ready_timeout");
}

#[test]
fn the_timeout_is_required() {
    let error = TimeoutLayer::builder().build().unwrap_err();
    assert!(matches!(error, ConfigError::Missing { .. }));
    assert_eq!(
        error.to_string(),
        "timeout is required (a duration greater than zero)"
    );

    let error = TimeoutLayer::builder()
        .ready_timeout(ms(10))
        .build()
        .unwrap_err();
    assert_eq!(error.field(), "timeout");
}

#[test]
fn an_empty_name_is_an_error() {
    let error = TimeoutLayer::builder()
        .timeout(ms(100))
        .name("")
        .build()
        .unwrap_err();
    assert!(matches!(error, ConfigError::EmptyName { .. }));
    assert_eq!(error.field(), "name");
    assert_eq!(error.to_string(), "name must not be empty");
}

#[test]
fn config_errors_are_std_errors() {
    let error: Box<dyn std::error::Error + Send + Sync> =
        TimeoutLayer::builder().build().unwrap_err().into();
    assert!(error.is::<ConfigError>());
}

#[test]
#[should_panic(expected = "invalid timeout configuration: timeout must be greater than zero")]
fn new_panics_on_a_zero_timeout() {
    let _ = TimeoutLayer::new(Duration::ZERO);
}

#[test]
fn defaults_and_settings_are_kept() {
    let layer = TimeoutLayer::new(ms(250));
    assert_eq!(layer.timeout(), ms(250));
    assert_eq!(layer.ready_timeout(), None);
    assert_eq!(layer.name(), "timeout");

    let layer = TimeoutLayer::builder()
        .timeout(ms(250))
        .ready_timeout(ms(20))
        .name(String::from("search"))
        .build()
        .unwrap();
    assert_eq!(layer.ready_timeout(), Some(ms(20)));
    assert_eq!(layer.name(), "search");
    assert_eq!(layer.clone().name(), "search");
}

#[tokio::test(start_paused = true)]
async fn a_huge_timeout_is_accepted_and_does_not_overflow() {
    use tokio_test::{assert_pending, assert_ready_ok, task};
    use tower_test::{assert_request_eq, mock};

    let layer = TimeoutLayer::builder()
        .timeout(Duration::MAX)
        .ready_timeout(Duration::MAX)
        .build()
        .unwrap();
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(layer);
    handle.allow(0);
    assert_pending!(service.poll_ready());
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("forever"));
    let send = assert_request_eq!(handle, "forever");
    assert_pending!(response.poll());
    tokio::time::advance(Duration::from_secs(365 * 24 * 3600)).await;
    assert_pending!(response.poll());
    send.send_response("done");
    assert_eq!(assert_ready_ok!(response.poll()), "done");
}

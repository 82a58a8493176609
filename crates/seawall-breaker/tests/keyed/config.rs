//! The keyed layer's configuration is validated when built.

use seawall_breaker::{BreakerConfig, KeyedBreakerConfig};

#[test]
fn a_capacity_of_zero_is_refused_by_name() {
    let error = KeyedBreakerConfig::builder()
        .capacity(0)
        .build()
        .unwrap_err();
    assert_eq!((error.field(), error.allowed()), ("capacity", "at least 1"));
    assert_eq!(
        error.to_string(),
        "invalid circuit breaker setting `capacity`: must be at least 1, got 0"
    );
}

#[test]
fn the_defaults_hold_a_thousand_keys_of_the_default_breaker() {
    let config = KeyedBreakerConfig::default();
    assert_eq!(config.capacity(), 1_024);
    assert_eq!(config.template(), &BreakerConfig::default());
    assert_eq!(config.name(), "circuit_breaker");
}

#[cfg(feature = "serde")]
#[test]
fn the_serde_form_nests_the_template_and_is_checked() {
    let config: KeyedBreakerConfig = serde_json::from_str(
        r#"{ "capacity": 10000, "breaker": { "name": "hosts", "consecutive_failures": 3 } }"#,
    )
    .unwrap();
    assert_eq!(config.capacity(), 10_000);
    assert_eq!(config.name(), "hosts");
    assert_eq!(config.template().consecutive_failures(), Some(3));

    let again: KeyedBreakerConfig =
        serde_json::from_value(serde_json::to_value(&config).unwrap()).unwrap();
    assert_eq!(again, config);

    let zero = serde_json::from_str::<KeyedBreakerConfig>(r#"{ "capacity": 0 }"#);
    assert!(zero.unwrap_err().to_string().contains("`capacity`"));
    let unknown = serde_json::from_str::<KeyedBreakerConfig>(r#"{ "capacty": 5 }"#);
    assert!(unknown.is_err());
}

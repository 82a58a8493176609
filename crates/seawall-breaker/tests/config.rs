//! Configuration: defaults, validation that names the field, serde form.

use std::time::Duration;

use seawall_breaker::{BreakerConfig, Window};

fn field_of(builder: seawall_breaker::BreakerConfigBuilder) -> &'static str {
    builder.build().expect_err("invalid on purpose").field()
}

#[test]
fn the_defaults_are_valid_and_documented() {
    let config = BreakerConfig::default();
    assert_eq!(config.name(), "circuit_breaker");
    assert_eq!(config.window(), Window::Count { size: 100 });
    assert_eq!(config.minimum_calls(), 20);
    assert_eq!(config.failure_rate(), Some(0.5));
    assert_eq!(config.slow_call_rate(), None);
    assert_eq!(config.consecutive_failures(), None);
    assert_eq!(config.open_duration(), Duration::from_secs(30));
    assert_eq!(config.max_open_duration(), Duration::from_secs(30));
    assert_eq!(config.half_open_probes(), 3);
    assert_eq!(config.half_open_timeout(), Duration::from_secs(60));
    assert_eq!(config.max_retry_after(), Duration::from_secs(60));
    assert!(!config.is_critical());
    // A small window lowers the default minimum to fit.
    let small = BreakerConfig::builder().count_window(5).build().unwrap();
    assert_eq!(small.minimum_calls(), 5);
}

#[test]
fn every_invalid_setting_is_named() {
    let b = BreakerConfig::builder;
    let secs = Duration::from_secs;
    assert_eq!(field_of(b().failure_rate(1.5)), "failure_rate");
    assert_eq!(field_of(b().failure_rate(-0.1)), "failure_rate");
    assert_eq!(field_of(b().failure_rate(f64::NAN)), "failure_rate");
    assert_eq!(field_of(b().count_window(0)), "window_size");
    assert_eq!(field_of(b().count_window(2_000_000)), "window_size");
    assert_eq!(field_of(b().time_window(secs(0), 10)), "window_duration");
    assert_eq!(field_of(b().time_window(secs(10), 0)), "window_buckets");
    assert_eq!(
        field_of(b().time_window(Duration::from_millis(5), 10)),
        "window_duration"
    );
    assert_eq!(field_of(b().minimum_calls(0)), "minimum_calls");
    assert_eq!(
        field_of(b().count_window(10).minimum_calls(11)),
        "minimum_calls"
    );
    assert_eq!(field_of(b().slow_call_rate(0.5)), "slow_call_rate");
    assert_eq!(
        field_of(b().slow_call_duration(secs(1)).slow_call_rate(2.0)),
        "slow_call_rate"
    );
    assert_eq!(
        field_of(b().slow_call_duration(secs(0))),
        "slow_call_duration"
    );
    assert_eq!(
        field_of(b().consecutive_failures(0)),
        "consecutive_failures"
    );
    assert_eq!(field_of(b().open_duration(secs(0))), "open_duration");
    assert_eq!(
        field_of(b().open_duration(secs(10)).max_open_duration(secs(5))),
        "max_open_duration"
    );
    assert_eq!(
        field_of(b().open_backoff_multiplier(0.5)),
        "open_backoff_multiplier"
    );
    assert_eq!(
        field_of(b().open_backoff_multiplier(f64::INFINITY)),
        "open_backoff_multiplier"
    );
    assert_eq!(field_of(b().open_jitter(1.5)), "open_jitter");
    assert_eq!(field_of(b().half_open_probes(0)), "half_open_probes");
    assert_eq!(field_of(b().half_open_probes(1024)), "half_open_probes");
    assert_eq!(
        field_of(b().half_open_success_ratio(0.0)),
        "half_open_success_ratio"
    );
    assert_eq!(
        field_of(b().half_open_success_ratio(1.1)),
        "half_open_success_ratio"
    );
    assert_eq!(
        field_of(b().half_open_timeout(secs(0))),
        "half_open_timeout"
    );
}

#[test]
fn the_error_says_what_is_allowed_in_lowercase() {
    let error = BreakerConfig::builder()
        .failure_rate(1.5)
        .build()
        .unwrap_err();
    assert_eq!(error.allowed(), "in 0..=1");
    assert_eq!(
        error.to_string(),
        "invalid circuit breaker setting `failure_rate`: must be in 0..=1, got 1.5"
    );
}

#[test]
fn a_later_window_replaces_an_earlier_one() {
    let config = BreakerConfig::builder()
        .count_window(10)
        .time_window(Duration::from_secs(30), 6)
        .build()
        .unwrap();
    let expected = Window::Time {
        length: Duration::from_secs(30),
        buckets: 6,
    };
    assert_eq!(config.window(), expected);
    assert_eq!(config.clone().with_name("other").name(), "other");
}

#[cfg(feature = "serde")]
mod serde_form {
    use super::*;

    #[test]
    fn durations_read_the_humantime_way() {
        let json = r#"{
            "name": "payments",
            "window_duration": "30s",
            "window_buckets": 10,
            "minimum_calls": 5,
            "failure_rate": false,
            "slow_call_duration": "1500ms",
            "slow_call_rate": 0.8,
            "consecutive_failures": 4,
            "open_duration": "5s",
            "max_open_duration": "2m",
            "open_jitter": 0.2,
            "half_open_probes": 2,
            "half_open_timeout": "1m 30s",
            "critical": true
        }"#;
        let config: BreakerConfig = serde_json::from_str(json).unwrap();
        assert_eq!(config.name(), "payments");
        assert_eq!(
            config.window(),
            Window::Time {
                length: Duration::from_secs(30),
                buckets: 10
            }
        );
        assert_eq!(config.failure_rate(), None);
        assert_eq!(
            config.slow_call_duration(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(config.max_open_duration(), Duration::from_secs(120));
        assert_eq!(config.half_open_timeout(), Duration::from_secs(90));
        assert!(config.is_critical());
    }

    #[test]
    fn missing_settings_take_the_defaults_and_a_round_trip_keeps_them() {
        let config: BreakerConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(config, BreakerConfig::default());
        let text = serde_json::to_string(&config).unwrap();
        assert!(text.contains(r#""open_duration":"30s""#), "{text}");
        let back: BreakerConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn invalid_values_and_unknown_fields_are_refused_by_name() {
        let error = serde_json::from_str::<BreakerConfig>(r#"{"failure_rate": 2.0}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("`failure_rate`"), "{error}");
        let error = serde_json::from_str::<BreakerConfig>(r#"{"failure_rat": 0.2}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("failure_rat"), "{error}");
        let error =
            serde_json::from_str::<BreakerConfig>(r#"{"window_size": 5, "window_duration": "1s"}"#)
                .unwrap_err()
                .to_string();
        assert!(error.contains("`window_size`"), "{error}");
    }
}

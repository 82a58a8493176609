//! The serde form of [`BreakerConfig`]: the builder's settings under the
//! same names, checked by the same `build`.
//!
//! ```toml
//! name = "payments"
//! window_size = 100            # or: window_duration = "30s", window_buckets = 10
//! minimum_calls = 20
//! failure_rate = 0.5           # false turns the trigger off
//! slow_call_duration = "2s"
//! slow_call_rate = 0.8
//! consecutive_failures = 5
//! open_duration = "5s"
//! max_open_duration = "2m"
//! open_backoff_multiplier = 2.0
//! open_jitter = 0.2
//! half_open_probes = 3
//! half_open_success_ratio = 0.6
//! half_open_timeout = "1m"
//! max_retry_after = "1m"
//! critical = false
//! ```

use std::sync::Arc;
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{BreakerConfig, BreakerConfigBuilder, Window};

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Form {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    window_size: Option<u32>,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    window_duration: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    window_buckets: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum_calls: Option<u32>,
    failure_rate: RateOrOff,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    slow_call_duration: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slow_call_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    consecutive_failures: Option<u32>,
    #[serde(with = "humantime_serde")]
    open_duration: Duration,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    max_open_duration: Option<Duration>,
    open_backoff_multiplier: f64,
    open_jitter: f64,
    half_open_probes: u32,
    half_open_success_ratio: f64,
    #[serde(with = "humantime_serde")]
    half_open_timeout: Duration,
    #[serde(with = "humantime_serde")]
    max_retry_after: Duration,
    critical: bool,
}

/// A rate, or `false` for a trigger that is off: formats without a null
/// (TOML) can still turn the default failure rate off.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(untagged)]
enum RateOrOff {
    Rate(f64),
    Off(bool),
}

impl Default for Form {
    fn default() -> Self {
        Form::from(BreakerConfigBuilder::new())
    }
}

impl From<BreakerConfigBuilder> for Form {
    fn from(b: BreakerConfigBuilder) -> Self {
        Form {
            name: b.name.to_string(),
            window_size: b.window_size,
            window_duration: b.window_duration,
            window_buckets: b.window_buckets,
            minimum_calls: b.minimum_calls,
            failure_rate: match b.failure_rate {
                Some(rate) => RateOrOff::Rate(rate),
                None => RateOrOff::Off(false),
            },
            slow_call_duration: b.slow_call_duration,
            slow_call_rate: b.slow_call_rate,
            consecutive_failures: b.consecutive_failures,
            open_duration: b.open_duration,
            max_open_duration: b.max_open_duration,
            open_backoff_multiplier: b.open_backoff_multiplier,
            open_jitter: b.open_jitter,
            half_open_probes: b.half_open_probes,
            half_open_success_ratio: b.half_open_success_ratio,
            half_open_timeout: b.half_open_timeout,
            max_retry_after: b.max_retry_after,
            critical: b.critical,
        }
    }
}

impl Form {
    fn into_builder<E: serde::de::Error>(self) -> Result<BreakerConfigBuilder, E> {
        let failure_rate = match self.failure_rate {
            RateOrOff::Rate(rate) => Some(rate),
            RateOrOff::Off(false) => None,
            RateOrOff::Off(true) => {
                return Err(E::custom(
                    "failure_rate must be a rate in 0..=1 or false, got true",
                ))
            }
        };
        Ok(BreakerConfigBuilder {
            name: Arc::from(self.name),
            window_size: self.window_size,
            window_duration: self.window_duration,
            window_buckets: self.window_buckets,
            minimum_calls: self.minimum_calls,
            failure_rate,
            slow_call_duration: self.slow_call_duration,
            slow_call_rate: self.slow_call_rate,
            consecutive_failures: self.consecutive_failures,
            open_duration: self.open_duration,
            max_open_duration: self.max_open_duration,
            open_backoff_multiplier: self.open_backoff_multiplier,
            open_jitter: self.open_jitter,
            half_open_probes: self.half_open_probes,
            half_open_success_ratio: self.half_open_success_ratio,
            half_open_timeout: self.half_open_timeout,
            max_retry_after: self.max_retry_after,
            critical: self.critical,
        })
    }
}

impl<'de> Deserialize<'de> for BreakerConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let form = Form::deserialize(deserializer)?;
        form.into_builder()?.build().map_err(D::Error::custom)
    }
}

impl Serialize for BreakerConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (window_size, window_duration, window_buckets) = match self.window {
            Window::Count { size } => (Some(size), None, None),
            Window::Time { length, buckets } => (None, Some(length), Some(buckets)),
        };
        let builder = BreakerConfigBuilder {
            name: self.name.clone(),
            window_size,
            window_duration,
            window_buckets,
            minimum_calls: Some(self.minimum_calls),
            failure_rate: self.failure_rate,
            slow_call_duration: self.slow_call_duration,
            slow_call_rate: self.slow_call_rate,
            consecutive_failures: self.consecutive_failures,
            open_duration: self.open_duration,
            max_open_duration: Some(self.max_open_duration),
            open_backoff_multiplier: self.open_backoff_multiplier,
            open_jitter: self.open_jitter,
            half_open_probes: self.half_open_probes,
            half_open_success_ratio: self.half_open_success_ratio,
            half_open_timeout: self.half_open_timeout,
            max_retry_after: self.max_retry_after,
            critical: self.critical,
        };
        Form::from(builder).serialize(serializer)
    }
}

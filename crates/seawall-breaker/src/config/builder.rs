use std::sync::Arc;
use std::time::Duration;

use super::{BreakerConfig, Window};
use crate::error::ConfigError;

/// The largest count window: the window's counters keep 21 bits a field.
pub(crate) const MAX_WINDOW_SIZE: u32 = 1_000_000;
/// The most buckets a time window may have.
pub(crate) const MAX_WINDOW_BUCKETS: u32 = 1_000;
/// The most half-open probes: the probe word keeps 10 bits a counter.
pub(crate) const MAX_HALF_OPEN_PROBES: u32 = 1_023;

const DEFAULT_WINDOW_SIZE: u32 = 100;
const DEFAULT_WINDOW_BUCKETS: u32 = 10;
const DEFAULT_MINIMUM_CALLS: u32 = 20;

/// Collects breaker settings; [`build`](Self::build) checks them.
///
/// Each setting has the name it has in the serde form. The defaults: a count
/// window of the last 100 calls, at least 20 calls (or the whole window, if
/// smaller) before a rate can trip, a failure rate of 0.5, no slow-call and
/// no consecutive-failure trigger, 30 s open with no backoff and no jitter,
/// 3 half-open probes of which 60% must succeed within 60 s, `Retry-After`
/// honoured up to 60 s, and a health component that is not critical.
#[derive(Debug, Clone)]
pub struct BreakerConfigBuilder {
    pub(crate) name: Arc<str>,
    pub(crate) window_size: Option<u32>,
    pub(crate) window_duration: Option<Duration>,
    pub(crate) window_buckets: Option<u32>,
    pub(crate) minimum_calls: Option<u32>,
    pub(crate) failure_rate: Option<f64>,
    pub(crate) slow_call_duration: Option<Duration>,
    pub(crate) slow_call_rate: Option<f64>,
    pub(crate) consecutive_failures: Option<u32>,
    pub(crate) open_duration: Duration,
    pub(crate) max_open_duration: Option<Duration>,
    pub(crate) open_backoff_multiplier: f64,
    pub(crate) open_jitter: f64,
    pub(crate) half_open_probes: u32,
    pub(crate) half_open_success_ratio: f64,
    pub(crate) half_open_timeout: Duration,
    pub(crate) max_retry_after: Duration,
    pub(crate) critical: bool,
}

impl BreakerConfigBuilder {
    pub(crate) fn new() -> Self {
        BreakerConfigBuilder {
            name: Arc::from("circuit_breaker"),
            window_size: None,
            window_duration: None,
            window_buckets: None,
            minimum_calls: None,
            failure_rate: Some(0.5),
            slow_call_duration: None,
            slow_call_rate: None,
            consecutive_failures: None,
            open_duration: Duration::from_secs(30),
            max_open_duration: None,
            open_backoff_multiplier: 2.0,
            open_jitter: 0.0,
            half_open_probes: 3,
            half_open_success_ratio: 0.6,
            half_open_timeout: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(60),
            critical: false,
        }
    }

    /// Names the breaker in metrics, logs, health and its rejections.
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = name.into();
        self
    }

    /// Judges the upstream by the last `size` recorded calls
    /// (`window_size`, 1..=1,000,000). Replaces a time window.
    pub fn count_window(mut self, size: u32) -> Self {
        self.window_size = Some(size);
        self.window_duration = None;
        self.window_buckets = None;
        self
    }

    /// Judges the upstream by the calls that finished in the last `length`
    /// (`window_duration`), kept in `buckets` buckets (`window_buckets`,
    /// 1..=1,000, each at least 1 ms wide). Replaces a count window.
    pub fn time_window(mut self, length: Duration, buckets: u32) -> Self {
        self.window_size = None;
        self.window_duration = Some(length);
        self.window_buckets = Some(buckets);
        self
    }

    /// How many calls the window must hold before the failure or slow-call
    /// rate can trip the breaker (`minimum_calls`, at least 1, at most a
    /// count window's size).
    pub fn minimum_calls(mut self, calls: u32) -> Self {
        self.minimum_calls = Some(calls);
        self
    }

    /// Trips when the share of failures in the window reaches `rate`
    /// (`failure_rate`, 0..=1; `None` turns the trigger off). A rate of 0
    /// trips on any failure once the window holds the minimum of calls.
    pub fn failure_rate(mut self, rate: impl Into<Option<f64>>) -> Self {
        self.failure_rate = rate.into();
        self
    }

    /// Counts a call as slow when it takes longer than `threshold`
    /// (`slow_call_duration`, more than zero; `None` counts no call as
    /// slow). A slow call still counts as a success or a failure as well.
    pub fn slow_call_duration(mut self, threshold: impl Into<Option<Duration>>) -> Self {
        self.slow_call_duration = threshold.into();
        self
    }

    /// Trips when the share of slow calls in the window reaches `rate`
    /// (`slow_call_rate`, 0..=1, needs `slow_call_duration`; `None` turns
    /// the trigger off).
    pub fn slow_call_rate(mut self, rate: impl Into<Option<f64>>) -> Self {
        self.slow_call_rate = rate.into();
        self
    }

    /// Trips after `failures` failures in a row, whatever the window holds
    /// (`consecutive_failures`, at least 1; `None` turns the trigger off).
    pub fn consecutive_failures(mut self, failures: impl Into<Option<u32>>) -> Self {
        self.consecutive_failures = failures.into();
        self
    }

    /// How long the breaker stays open after a trip (`open_duration`, more
    /// than zero). Alone it is a fixed duration; with a larger
    /// [`max_open_duration`](Self::max_open_duration) it is the first step
    /// of the backoff.
    pub fn open_duration(mut self, duration: Duration) -> Self {
        self.open_duration = duration;
        self
    }

    /// The cap of the open duration's backoff (`max_open_duration`, at least
    /// `open_duration`; unset, it equals `open_duration` and the duration
    /// stays fixed).
    pub fn max_open_duration(mut self, duration: Duration) -> Self {
        self.max_open_duration = Some(duration);
        self
    }

    /// The factor the open duration grows by with each consecutive trip
    /// (`open_backoff_multiplier`, a finite number of at least 1, default 2).
    pub fn open_backoff_multiplier(mut self, multiplier: f64) -> Self {
        self.open_backoff_multiplier = multiplier;
        self
    }

    /// The fraction of each open duration that jitter may take off, so that
    /// many breakers do not probe at the same instant (`open_jitter`,
    /// 0..=1, default 0).
    pub fn open_jitter(mut self, jitter: f64) -> Self {
        self.open_jitter = jitter;
        self
    }

    /// How many probes a half-open breaker lets through, at most that many
    /// at a time (`half_open_probes`, 1..=1,023).
    pub fn half_open_probes(mut self, probes: u32) -> Self {
        self.half_open_probes = probes;
        self
    }

    /// The share of the probes that must succeed for the breaker to close
    /// (`half_open_success_ratio`, more than 0, at most 1).
    pub fn half_open_success_ratio(mut self, ratio: f64) -> Self {
        self.half_open_success_ratio = ratio;
        self
    }

    /// How long a half-open breaker waits for its verdict before it opens
    /// again (`half_open_timeout`, more than zero).
    pub fn half_open_timeout(mut self, timeout: Duration) -> Self {
        self.half_open_timeout = timeout;
        self
    }

    /// The longest an upstream's `Retry-After` (read by the classifier's
    /// `retry_after`) holds the breaker open (`max_retry_after`; zero
    /// ignores such hints).
    pub fn max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = limit;
        self
    }

    /// Whether the instance should stop taking work while this breaker is
    /// open (`critical`): sets the health component's critical flag.
    pub fn critical(mut self, critical: bool) -> Self {
        self.critical = critical;
        self
    }

    /// Checks every setting and returns the configuration, or the first
    /// setting that is out of range.
    pub fn build(self) -> Result<BreakerConfig, ConfigError> {
        let window = self.checked_window()?;
        let minimum_calls = self.checked_minimum_calls(window)?;
        check_rate("failure_rate", self.failure_rate)?;
        check_rate("slow_call_rate", self.slow_call_rate)?;
        if self.slow_call_duration == Some(Duration::ZERO) {
            return Err(ConfigError::new(
                "slow_call_duration",
                "more than zero",
                Duration::ZERO,
            ));
        }
        if self.slow_call_rate.is_some() && self.slow_call_duration.is_none() {
            return Err(ConfigError::new(
                "slow_call_rate",
                "unset unless slow_call_duration is set",
                self.slow_call_rate,
            ));
        }
        if self.consecutive_failures == Some(0) {
            return Err(ConfigError::new("consecutive_failures", "at least 1", 0));
        }
        let max_open_duration = self.checked_open()?;
        if !(1..=MAX_HALF_OPEN_PROBES).contains(&self.half_open_probes) {
            return Err(ConfigError::new(
                "half_open_probes",
                "in 1..=1023",
                self.half_open_probes,
            ));
        }
        let ratio = self.half_open_success_ratio;
        if !(ratio > 0.0 && ratio <= 1.0) {
            return Err(ConfigError::new(
                "half_open_success_ratio",
                "more than 0 and at most 1",
                ratio,
            ));
        }
        if self.half_open_timeout.is_zero() {
            return Err(ConfigError::new(
                "half_open_timeout",
                "more than zero",
                Duration::ZERO,
            ));
        }
        Ok(BreakerConfig {
            name: self.name,
            window,
            minimum_calls,
            failure_rate: self.failure_rate,
            slow_call_duration: self.slow_call_duration,
            slow_call_rate: self.slow_call_rate,
            consecutive_failures: self.consecutive_failures,
            open_duration: self.open_duration,
            max_open_duration,
            open_backoff_multiplier: self.open_backoff_multiplier,
            open_jitter: self.open_jitter,
            half_open_probes: self.half_open_probes,
            half_open_success_ratio: ratio,
            half_open_timeout: self.half_open_timeout,
            max_retry_after: self.max_retry_after,
            critical: self.critical,
        })
    }

    fn checked_window(&self) -> Result<Window, ConfigError> {
        let Some(length) = self.window_duration else {
            let size = self.window_size.unwrap_or(DEFAULT_WINDOW_SIZE);
            if !(1..=MAX_WINDOW_SIZE).contains(&size) {
                return Err(ConfigError::new("window_size", "in 1..=1000000", size));
            }
            if self.window_buckets.is_some() {
                return Err(ConfigError::new(
                    "window_buckets",
                    "unset unless window_duration is set",
                    self.window_buckets,
                ));
            }
            return Ok(Window::Count { size });
        };
        if self.window_size.is_some() {
            return Err(ConfigError::new(
                "window_size",
                "unset when window_duration is set (one window only)",
                self.window_size,
            ));
        }
        let buckets = self.window_buckets.unwrap_or(DEFAULT_WINDOW_BUCKETS);
        if !(1..=MAX_WINDOW_BUCKETS).contains(&buckets) {
            return Err(ConfigError::new("window_buckets", "in 1..=1000", buckets));
        }
        if length < Duration::from_millis(1) * buckets {
            return Err(ConfigError::new(
                "window_duration",
                "at least 1 ms per bucket",
                length,
            ));
        }
        Ok(Window::Time { length, buckets })
    }

    fn checked_minimum_calls(&self, window: Window) -> Result<u32, ConfigError> {
        let (default, most) = match window {
            Window::Count { size } => (DEFAULT_MINIMUM_CALLS.min(size), size),
            Window::Time { .. } => (DEFAULT_MINIMUM_CALLS, u32::MAX),
        };
        let calls = self.minimum_calls.unwrap_or(default);
        if calls == 0 {
            return Err(ConfigError::new("minimum_calls", "at least 1", 0));
        }
        if calls > most {
            return Err(ConfigError::new(
                "minimum_calls",
                "at most the count window's size",
                calls,
            ));
        }
        Ok(calls)
    }

    fn checked_open(&self) -> Result<Duration, ConfigError> {
        if self.open_duration.is_zero() {
            return Err(ConfigError::new(
                "open_duration",
                "more than zero",
                Duration::ZERO,
            ));
        }
        let max = self.max_open_duration.unwrap_or(self.open_duration);
        if max < self.open_duration {
            return Err(ConfigError::new(
                "max_open_duration",
                "at least open_duration",
                max,
            ));
        }
        let multiplier = self.open_backoff_multiplier;
        if !(multiplier.is_finite() && multiplier >= 1.0) {
            return Err(ConfigError::new(
                "open_backoff_multiplier",
                "a finite number of at least 1",
                multiplier,
            ));
        }
        if !(0.0..=1.0).contains(&self.open_jitter) {
            return Err(ConfigError::new(
                "open_jitter",
                "in 0..=1",
                self.open_jitter,
            ));
        }
        Ok(max)
    }
}

fn check_rate(field: &'static str, rate: Option<f64>) -> Result<(), ConfigError> {
    match rate {
        Some(r) if !(0.0..=1.0).contains(&r) => Err(ConfigError::new(field, "in 0..=1", r)),
        _ => Ok(()),
    }
}

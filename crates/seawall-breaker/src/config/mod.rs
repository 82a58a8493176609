//! The breaker's validated configuration.
//!
//! [`BreakerConfig::builder`] collects settings and checks them all in
//! [`build`](BreakerConfigBuilder::build); with the `serde` feature the same
//! settings deserialize from any serde format, durations written the
//! humantime way (`"30s"`, `"1m 30s"`), and are checked the same way.

mod builder;
#[cfg(feature = "serde")]
mod serde_form;

use std::sync::Arc;
use std::time::Duration;

pub use builder::BreakerConfigBuilder;

/// A validated circuit breaker configuration.
///
/// Build one with [`BreakerConfig::builder`]; [`BreakerConfig::default`] is
/// the builder's defaults. Every field is documented on the builder method
/// that sets it.
///
/// ```
/// use std::time::Duration;
/// use seawall_breaker::BreakerConfig;
///
/// let config = BreakerConfig::builder()
///     .name("payments")
///     .count_window(50)
///     .minimum_calls(10)
///     .failure_rate(0.5)
///     .consecutive_failures(5)
///     .open_duration(Duration::from_secs(5))
///     .max_open_duration(Duration::from_secs(60))
///     .build()?;
/// assert_eq!(config.name(), "payments");
/// # Ok::<(), seawall_breaker::error::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    pub(crate) name: Arc<str>,
    pub(crate) window: Window,
    pub(crate) minimum_calls: u32,
    pub(crate) failure_rate: Option<f64>,
    pub(crate) slow_call_duration: Option<Duration>,
    pub(crate) slow_call_rate: Option<f64>,
    pub(crate) consecutive_failures: Option<u32>,
    pub(crate) open_duration: Duration,
    pub(crate) max_open_duration: Duration,
    pub(crate) open_backoff_multiplier: f64,
    pub(crate) open_jitter: f64,
    pub(crate) half_open_probes: u32,
    pub(crate) half_open_success_ratio: f64,
    pub(crate) half_open_timeout: Duration,
    pub(crate) max_retry_after: Duration,
    pub(crate) critical: bool,
}

/// Which calls the breaker judges the upstream by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Window {
    /// The last `size` recorded calls.
    Count {
        /// How many calls the window holds.
        size: u32,
    },
    /// The calls that finished in the last `length`, kept in `buckets`
    /// buckets of `length / buckets` each; the oldest bucket leaves the
    /// window whole.
    Time {
        /// How far back the window reaches.
        length: Duration,
        /// How many buckets the window is cut into.
        buckets: u32,
    },
}

impl BreakerConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> BreakerConfigBuilder {
        BreakerConfigBuilder::new()
    }

    /// Returns the same configuration under another name, for example one
    /// breaker per upstream host built from a shared template.
    pub fn with_name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = name.into();
        self
    }

    /// The breaker's name: the `name` label of its metrics, its health
    /// component and the name in its [`CircuitOpen`](crate::error::CircuitOpen).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The window calls are judged over.
    pub fn window(&self) -> Window {
        self.window
    }

    /// How many calls the window must hold before a rate can trip.
    pub fn minimum_calls(&self) -> u32 {
        self.minimum_calls
    }

    /// The failure rate that trips the breaker, if that trigger is on.
    pub fn failure_rate(&self) -> Option<f64> {
        self.failure_rate
    }

    /// The duration over which a call counts as slow, if slow calls are
    /// counted.
    pub fn slow_call_duration(&self) -> Option<Duration> {
        self.slow_call_duration
    }

    /// The slow-call rate that trips the breaker, if that trigger is on.
    pub fn slow_call_rate(&self) -> Option<f64> {
        self.slow_call_rate
    }

    /// How many failures in a row trip the breaker, if that trigger is on.
    pub fn consecutive_failures(&self) -> Option<u32> {
        self.consecutive_failures
    }

    /// How long the breaker stays open after its first trip.
    pub fn open_duration(&self) -> Duration {
        self.open_duration
    }

    /// The longest the breaker stays open after repeated trips.
    pub fn max_open_duration(&self) -> Duration {
        self.max_open_duration
    }

    /// The factor the open duration grows by with each consecutive trip.
    pub fn open_backoff_multiplier(&self) -> f64 {
        self.open_backoff_multiplier
    }

    /// The fraction of the open duration that jitter may take off.
    pub fn open_jitter(&self) -> f64 {
        self.open_jitter
    }

    /// How many probes a half-open breaker lets through.
    pub fn half_open_probes(&self) -> u32 {
        self.half_open_probes
    }

    /// The share of probes that must succeed to close the breaker.
    pub fn half_open_success_ratio(&self) -> f64 {
        self.half_open_success_ratio
    }

    /// How long a half-open breaker waits for its verdict before it opens
    /// again.
    pub fn half_open_timeout(&self) -> Duration {
        self.half_open_timeout
    }

    /// The longest an upstream's `Retry-After` holds the breaker open; zero
    /// ignores such hints.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// Whether the breaker's health component is critical for readiness.
    pub fn is_critical(&self) -> bool {
        self.critical
    }
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfigBuilder::new()
            .build()
            .expect("the default settings are valid")
    }
}

//! What a limit allows: a sustained rate and a burst.

use std::borrow::Cow;
use std::time::Duration;

/// A rate limit's allowance: requests replenish one at a time at a steady
/// rate, and up to `burst` of them may be spent at once.
///
/// A quota is a description; [`Builder::build`](crate::Builder::build)
/// checks it and names the field at fault (`rate` or `burst`) when it is
/// unusable, so a quota of zero is an error there, not a panic here.
///
/// `Quota::per_second(10)` replenishes one request every 100 ms and allows
/// a burst of 10: ten requests at once after a quiet second, then one every
/// 100 ms. [`burst`](Quota::burst) changes the burst without changing the
/// rate. The interval between two replenished requests is the period
/// divided by the count, rounded down to whole nanoseconds, so that a
/// client keeping exactly to the rate is never refused for a rounding
/// error.
///
/// ```
/// use std::time::Duration;
/// use seawall_governor::Quota;
///
/// // 100 a minute, at most 10 at once.
/// let per_client = Quota::per_minute(100).burst(10).named("per-client");
/// // One every 250 ms, one at a time.
/// let steady = Quota::with_period(Duration::from_millis(250));
/// # let _ = (per_client, steady);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    count: u32,
    period: Duration,
    burst: Option<u32>,
    name: Option<Cow<'static, str>>,
}

impl Quota {
    /// `count` requests a second, with a burst of `count`.
    pub fn per_second(count: u32) -> Self {
        Quota::per(count, Duration::from_secs(1))
    }

    /// `count` requests a minute, with a burst of `count`.
    pub fn per_minute(count: u32) -> Self {
        Quota::per(count, Duration::from_secs(60))
    }

    /// `count` requests an hour, with a burst of `count`.
    pub fn per_hour(count: u32) -> Self {
        Quota::per(count, Duration::from_secs(3600))
    }

    /// `count` requests per `period`, with a burst of `count`.
    pub fn per(count: u32, period: Duration) -> Self {
        Quota {
            count,
            period,
            burst: None,
            name: None,
        }
    }

    /// One request every `interval`, with a burst of 1.
    pub fn with_period(interval: Duration) -> Self {
        Quota::per(1, interval)
    }

    /// Allows up to `burst` requests at once; the rate stays as it was.
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = Some(burst);
        self
    }

    /// Names the quota in refusals, metrics and health. A layer's quotas
    /// default to `"global"` and its per-key quota to `"per_key"`.
    pub fn named(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub(crate) fn count(&self) -> u32 {
        self.count
    }

    pub(crate) fn period(&self) -> Duration {
        self.period
    }

    /// The burst asked for, or the count when none was.
    pub(crate) fn burst_or_count(&self) -> u32 {
        self.burst.unwrap_or(self.count)
    }

    pub(crate) fn name_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.name.as_deref().unwrap_or(default)
    }
}

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{Pattern, Rejection};

/// A rate limit was exhausted: the request came sooner than the quota
/// allows.
///
/// It says when the next request would be allowed and, where the layer knows
/// it, the quota that refused, so the HTTP mapping can write the standard
/// `RateLimit-Policy` and `RateLimit` headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimited {
    retry_after: Duration,
    policy: Option<QuotaPolicy>,
}

/// The quota behind a [`RateLimited`]: `limit` requests per `window`, under a
/// name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaPolicy {
    name: Arc<str>,
    limit: u64,
    window: Duration,
}

impl RateLimited {
    /// A refusal whose next request is allowed in `retry_after`.
    pub fn new(retry_after: Duration) -> Self {
        RateLimited {
            retry_after,
            policy: None,
        }
    }

    /// Names the quota that refused.
    pub fn with_policy(mut self, policy: QuotaPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The quota that refused, where known.
    pub fn policy(&self) -> Option<&QuotaPolicy> {
        self.policy.as_ref()
    }
}

impl QuotaPolicy {
    /// A quota named `name` of `limit` requests per `window`.
    pub fn new(name: impl Into<Arc<str>>, limit: u64, window: Duration) -> Self {
        QuotaPolicy {
            name: name.into(),
            limit,
            window,
        }
    }

    /// The quota's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many requests the quota allows per window.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The window the limit applies to.
    pub fn window(&self) -> Duration {
        self.window
    }
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("rate limited")?;
        if let Some(policy) = &self.policy {
            write!(
                f,
                " by {:?} ({} per {:?})",
                policy.name, policy.limit, policy.window
            )?;
        }
        write!(f, ", retry after {:?}", self.retry_after)
    }
}

impl Error for RateLimited {}

impl Rejection for RateLimited {
    fn pattern(&self) -> Pattern {
        Pattern::Governor
    }

    fn retry_after(&self) -> Option<Duration> {
        Some(self.retry_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_quota_and_the_wait() {
        let e = RateLimited::new(Duration::from_millis(1500));
        assert_eq!(e.to_string(), "rate limited, retry after 1.5s");
        let e = e.with_policy(QuotaPolicy::new("per-key", 100, Duration::from_secs(60)));
        assert_eq!(
            e.to_string(),
            "rate limited by \"per-key\" (100 per 60s), retry after 1.5s"
        );
        assert_eq!(e.policy().map(QuotaPolicy::limit), Some(100));
        assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)));
    }
}

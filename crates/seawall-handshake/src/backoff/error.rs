//! The back-off's refusal.

use std::error::Error;
use std::fmt;
use std::time::Duration;

/// A call was refused locally because its upstream answered `503` or `429`
/// with a `Retry-After` that has not passed yet; returned by
/// [`Backoff`](super::Backoff) without calling the inner service.
///
/// This is a client-side error: it is not one of the rejections
/// [`seawall_core::rejection::find`] recognises, so seawall-http does not
/// turn it into a response, and a circuit breaker's default classifier
/// counts it as a failure of the upstream (see the
/// [module docs](super#limitations)). Match it by downcasting:
///
/// ```
/// use std::time::Duration;
/// use seawall_core::BoxError;
/// use seawall_handshake::backoff::UpstreamBackoff;
///
/// /// How long to leave the upstream alone, if it asked.
/// fn wait_for(error: &BoxError) -> Option<Duration> {
///     let backoff = error.downcast_ref::<UpstreamBackoff>()?;
///     Some(backoff.retry_after())
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamBackoff {
    authority: Box<str>,
    retry_after: Duration,
}

impl UpstreamBackoff {
    pub(crate) fn new(authority: &str, retry_after: Duration) -> Self {
        UpstreamBackoff {
            authority: authority.into(),
            retry_after,
        }
    }

    /// How long until the upstream's `Retry-After` has passed.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// The upstream that asked for time, as the request named it (the URI's
    /// authority or the `Host` header, without user information).
    pub fn authority(&self) -> &str {
        &self.authority
    }
}

impl fmt::Display for UpstreamBackoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whole seconds, rounded up, as the upstream's header would say.
        let nanos = self.retry_after.subsec_nanos();
        let seconds = self.retry_after.as_secs() + u64::from(nanos > 0);
        write!(f, "upstream asked to back off, retry after {seconds}s")
    }
}

impl Error for UpstreamBackoff {}

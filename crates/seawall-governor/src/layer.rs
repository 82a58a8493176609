//! The layer, which owns the limiter.

use std::fmt;

use tower_layer::Layer;

use crate::builder::Builder;
use crate::limiter::RateLimiter;
use crate::quota::Quota;
use crate::service::RateLimit;

/// Applies a [`RateLimit`] to services; every service it builds draws on
/// the same quotas.
///
/// The limiter is created when the layer is built, not in
/// [`Layer::layer`], so the limit holds across clones and across the
/// services built for each connection. For a limit per key, see
/// [`Builder::key_by`] and [`KeyedRateLimitLayer`](crate::KeyedRateLimitLayer).
///
/// It **sheds** by default: its services are always ready, and a refused
/// request fails at once without reaching the inner service. With
/// [`Builder::wait`] it applies **back pressure**: `poll_ready` is
/// `Pending` until the request's slot comes, up to the bound.
///
/// ```
/// use seawall_governor::{Quota, RateLimitLayer};
/// use tower_layer::Layer;
///
/// let layer = RateLimitLayer::new(Quota::per_second(100));
/// let a = layer.layer(tower::service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x) }));
/// let b = layer.layer(tower::service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x) }));
/// // `a` and `b` share 100 requests a second between them.
/// # let _ = (a, b);
/// ```
///
/// # Errors
///
/// A refusal is a [`RateLimited`](crate::RateLimited) in the service's
/// `BoxError`, with the exact wait and the quota that refused;
/// seawall-http answers it with `429 Too Many Requests`. Inner errors pass
/// through unchanged.
///
/// ```
/// use std::time::Duration;
/// use seawall_core::{BoxError, Rejection};
/// use seawall_governor::RateLimited;
///
/// fn wait_for(error: &BoxError) -> Option<Duration> {
///     error.downcast_ref::<RateLimited>()?.retry_after()
/// }
/// # let error: BoxError = RateLimited::new(Duration::from_secs(2)).into();
/// # assert_eq!(wait_for(&error), Some(Duration::from_secs(2)));
/// ```
///
/// # Cancel safety
///
/// Dropping a response future keeps its request counted. Dropping a
/// service that holds an unused admission, or that is waiting, gives the
/// admission back when no later request was counted on top of it; see
/// the [crate docs](crate#cancel-safety).
pub struct RateLimitLayer {
    limiter: RateLimiter,
}

impl RateLimitLayer {
    /// Starts configuring a rate limit.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A rate limit of one global `quota` that refuses at once, named
    /// `"rate_limit"`.
    ///
    /// # Panics
    ///
    /// When the quota is invalid (a zero rate or burst);
    /// [`builder`](Self::builder) reports that as an error instead.
    pub fn new(quota: Quota) -> Self {
        match Self::builder().quota(quota).build() {
            Ok(layer) => layer,
            Err(error) => panic!("invalid rate limit: {error}"),
        }
    }
}

impl RateLimitLayer {
    pub(crate) fn from_limiter(limiter: RateLimiter) -> Self {
        RateLimitLayer { limiter }
    }

    /// The limiter every service of this layer shares.
    pub fn limiter(&self) -> RateLimiter {
        self.limiter.clone()
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit::new(inner, self.limiter.clone())
    }
}

impl Clone for RateLimitLayer {
    fn clone(&self) -> Self {
        RateLimitLayer {
            limiter: self.limiter.clone(),
        }
    }
}

impl fmt::Debug for RateLimitLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("limiter", &self.limiter)
            .finish()
    }
}

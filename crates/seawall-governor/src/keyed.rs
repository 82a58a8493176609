//! The keyed rate limit: a layer and a service that give every key its
//! own quota.

use std::any::type_name;
use std::fmt;
use std::hash::Hash;
use std::task::{ready, Context, Poll};

use seawall_core::BoxError;
use tokio::time::Instant;
use tower_layer::Layer;
use tower_service::Service;

use crate::future::ResponseFuture;
use crate::gate::contract_violation;
use crate::key::KeyExtractor;
use crate::limiter::RateLimiter;

/// Applies a [`KeyedRateLimit`] to services; built by
/// [`KeyedBuilder::build`](crate::KeyedBuilder::build). Every service it
/// builds draws on the same keys and quotas.
///
/// It always **sheds**: the key is only known in `call`, after readiness,
/// so a refused request fails at once with
/// [`RateLimited`](crate::RateLimited) (or
/// [`KeyUnavailable`](crate::error::KeyUnavailable) without a key), and
/// the inner service stays ready but uncalled. Its future holds nothing
/// of the limiter, so dropping it changes nothing (see
/// [Cancel safety](crate#cancel-safety)). Keys are held up to a capacity
/// and evicted by the rule in the [crate docs](crate#keys).
///
/// `X` is the [`KeyExtractor`] and `K` its key type. `K` is usually
/// inferred from where the layer is used; where it is not, name it:
///
/// ```
/// use std::net::IpAddr;
/// use seawall_governor::{KeyedRateLimitLayer, Quota, RateLimitLayer};
///
/// #[derive(Clone)]
/// struct ByPeer;
/// # impl seawall_governor::KeyExtractor<Option<IpAddr>> for ByPeer {
/// #     type Key = IpAddr;
/// #     fn extract(&self, request: &Option<IpAddr>) -> Option<IpAddr> { *request }
/// # }
///
/// let layer: KeyedRateLimitLayer<ByPeer, IpAddr> = RateLimitLayer::builder()
///     .key_by(ByPeer)
///     .key_quota(Quota::per_second(5))
///     .build()?;
/// assert_eq!(layer.limiter().keys(), 0);
/// # Ok::<(), seawall_governor::ConfigError>(())
/// ```
pub struct KeyedRateLimitLayer<X, K> {
    limiter: RateLimiter<K>,
    extractor: X,
}

/// Admits requests within their key's quota and the layer's global
/// quotas, shared by every service the [`KeyedRateLimitLayer`] builds.
///
/// The key is in the request, so `poll_ready` only polls the inner
/// service, and `call` extracts the key and decides: an admitted request
/// goes to the inner service, a refused one gets a future that fails
/// with [`RateLimited`](crate::RateLimited) or
/// [`KeyUnavailable`](crate::error::KeyUnavailable), and the inner service
/// stays ready but uncalled. Nothing is held between `poll_ready` and
/// `call`. It always sheds; see the [crate docs](crate).
pub struct KeyedRateLimit<S, X, K> {
    inner: S,
    extractor: X,
    limiter: RateLimiter<K>,
    ready: bool,
}

impl<X, K> KeyedRateLimitLayer<X, K> {
    pub(crate) fn new(limiter: RateLimiter<K>, extractor: X) -> Self {
        KeyedRateLimitLayer { limiter, extractor }
    }

    /// The limiter every service of this layer shares.
    pub fn limiter(&self) -> RateLimiter<K> {
        self.limiter.clone()
    }
}

impl<S, X: Clone, K> Layer<S> for KeyedRateLimitLayer<X, K> {
    type Service = KeyedRateLimit<S, X, K>;

    fn layer(&self, inner: S) -> Self::Service {
        KeyedRateLimit {
            inner,
            extractor: self.extractor.clone(),
            limiter: self.limiter.clone(),
            ready: false,
        }
    }
}

impl<S, X, K> KeyedRateLimit<S, X, K> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The limiter this service draws on.
    pub fn limiter(&self) -> &RateLimiter<K> {
        &self.limiter
    }
}

impl<S, X, K, Req> Service<Req> for KeyedRateLimit<S, X, K>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    X: KeyExtractor<Req, Key = K>,
    K: Hash + Eq + Clone + Send + Sync + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        ready!(self.inner.poll_ready(cx)).map_err(Into::into)?;
        self.ready = true;
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        if !self.ready {
            contract_violation("KeyedRateLimit");
        }
        self.ready = false;

        let shared = self.limiter.shared();
        let now = shared.nanos(Instant::now());
        let key = self.extractor.extract(&request);
        match shared.admit_request(key.as_ref(), now) {
            Ok(()) => ResponseFuture::called(self.inner.call(request)),
            Err(refusal) => ResponseFuture::refused(refusal),
        }
    }
}

impl<S: Clone, X: Clone, K> Clone for KeyedRateLimit<S, X, K> {
    /// A clone shares the limiter; it must be made ready itself.
    fn clone(&self) -> Self {
        KeyedRateLimit {
            inner: self.inner.clone(),
            extractor: self.extractor.clone(),
            limiter: self.limiter.clone(),
            ready: false,
        }
    }
}

impl<X: Clone, K> Clone for KeyedRateLimitLayer<X, K> {
    fn clone(&self) -> Self {
        KeyedRateLimitLayer {
            limiter: self.limiter.clone(),
            extractor: self.extractor.clone(),
        }
    }
}

impl<S, X, K> fmt::Debug for KeyedRateLimit<S, X, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimit")
            .field("inner", &type_name::<S>())
            .field("key", &type_name::<X>())
            .field("limiter", &self.limiter)
            .field("ready", &self.ready)
            .finish()
    }
}

impl<X, K> fmt::Debug for KeyedRateLimitLayer<X, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimitLayer")
            .field("limiter", &self.limiter)
            .field("key", &type_name::<X>())
            .finish()
    }
}

//! The keyed rate limit: a layer and a service that give every key its
//! own quota. This file holds the shedding mode; `wait` the waiting one.

mod wait;

use std::any::type_name;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::task::{ready, Context, Poll};

use seawall_core::BoxError;
use tokio::time::Instant;
use tower_layer::Layer;
use tower_service::Service;

use crate::future::ResponseFuture;
use crate::gate::{contract_violation, SplitMix};
use crate::gcra::Plan;
use crate::key::KeyExtractor;
use crate::limiter::RateLimiter;
use crate::mode::Shed;

/// Applies a [`KeyedRateLimit`] to services; built by
/// [`KeyedBuilder::build`](crate::KeyedBuilder::build). Every service it
/// builds draws on the same keys and quotas.
///
/// By default (mode [`Shed`]) it **sheds**: the key is only known in
/// `call`, after readiness, so a refused request fails at once with
/// [`RateLimited`](crate::RateLimited) (or
/// [`KeyUnavailable`](crate::error::KeyUnavailable) without a key), and
/// the inner service stays ready but uncalled. Its future holds nothing
/// of the limiter, so dropping it changes nothing (see
/// [Cancel safety](crate#cancel-safety)). Built with
/// [`KeyedBuilder::wait`](crate::KeyedBuilder::wait) (mode
/// [`Wait`](crate::mode::Wait)), a request that must wait for its key's
/// slot waits in its response future instead (see
/// [keyed waits](crate#keyed-waits)). Keys are held up to a capacity and
/// evicted by the rule in the [crate docs](crate#keys).
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
pub struct KeyedRateLimitLayer<X, K, M = Shed> {
    limiter: RateLimiter<K>,
    extractor: X,
    mode: PhantomData<M>,
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
/// `call`. In mode [`Wait`](crate::mode::Wait) an admitted request whose
/// slot is still to come waits in its future; see the
/// [crate docs](crate#keyed-waits).
pub struct KeyedRateLimit<S, X, K, M = Shed> {
    inner: S,
    extractor: X,
    limiter: RateLimiter<K>,
    ready: bool,
    /// Seeded the first time a waiting service draws jitter.
    rng: Option<SplitMix>,
    mode: PhantomData<M>,
}

impl<X, K, M> KeyedRateLimitLayer<X, K, M> {
    pub(crate) fn new(limiter: RateLimiter<K>, extractor: X) -> Self {
        KeyedRateLimitLayer {
            limiter,
            extractor,
            mode: PhantomData,
        }
    }

    /// The limiter every service of this layer shares.
    pub fn limiter(&self) -> RateLimiter<K> {
        self.limiter.clone()
    }
}

impl<S, X: Clone, K, M> Layer<S> for KeyedRateLimitLayer<X, K, M> {
    type Service = KeyedRateLimit<S, X, K, M>;

    fn layer(&self, inner: S) -> Self::Service {
        KeyedRateLimit {
            inner,
            extractor: self.extractor.clone(),
            limiter: self.limiter.clone(),
            ready: false,
            rng: None,
            mode: PhantomData,
        }
    }
}

impl<S, X, K, M> KeyedRateLimit<S, X, K, M> {
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

    /// Readiness is the inner service's: the key, and so the decision,
    /// come with the request.
    #[inline]
    fn poll_inner<Req>(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>>
    where
        S: Service<Req>,
        S::Error: Into<BoxError>,
    {
        ready!(self.inner.poll_ready(cx)).map_err(Into::into)?;
        self.ready = true;
        Poll::Ready(Ok(()))
    }

    /// Spends the readiness `poll_ready` found.
    ///
    /// # Panics
    ///
    /// When `poll_ready` did not return `Ready(Ok(()))` since the last call.
    #[inline]
    fn take_ready(&mut self) {
        if !self.ready {
            contract_violation("KeyedRateLimit");
        }
        self.ready = false;
    }
}

impl<S, X, K, Req> Service<Req> for KeyedRateLimit<S, X, K, Shed>
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
        self.poll_inner(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        self.take_ready();
        let shared = self.limiter.shared();
        let now = shared.nanos(Instant::now());
        let key = self.extractor.extract(&request);
        match shared.admit_request(key.as_ref(), now, &Plan::SHED) {
            Ok(_) => ResponseFuture::called(self.inner.call(request)),
            Err(refusal) => ResponseFuture::refused(refusal),
        }
    }
}

impl<S: Clone, X: Clone, K, M> Clone for KeyedRateLimit<S, X, K, M> {
    /// A clone shares the limiter; it must be made ready itself.
    fn clone(&self) -> Self {
        KeyedRateLimit {
            inner: self.inner.clone(),
            extractor: self.extractor.clone(),
            limiter: self.limiter.clone(),
            ready: false,
            rng: None,
            mode: PhantomData,
        }
    }
}

impl<X: Clone, K, M> Clone for KeyedRateLimitLayer<X, K, M> {
    fn clone(&self) -> Self {
        KeyedRateLimitLayer {
            limiter: self.limiter.clone(),
            extractor: self.extractor.clone(),
            mode: PhantomData,
        }
    }
}

impl<S, X, K, M> fmt::Debug for KeyedRateLimit<S, X, K, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimit")
            .field("inner", &type_name::<S>())
            .field("key", &type_name::<X>())
            .field("limiter", &self.limiter)
            .field("ready", &self.ready)
            .finish()
    }
}

impl<X, K, M> fmt::Debug for KeyedRateLimitLayer<X, K, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimitLayer")
            .field("limiter", &self.limiter)
            .field("key", &type_name::<X>())
            .finish()
    }
}

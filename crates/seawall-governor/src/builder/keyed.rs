//! The builder of a keyed rate limit, and its choice of mode.

use std::borrow::Cow;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::time::Duration;

use seawall_core::health::HealthRegistry;
use seawall_core::names::label;

use super::{refused_counter, Builder, DEFAULT_CAPACITY};
use crate::error::ConfigError;
use crate::gcra::Gcra;
use crate::key::MissingKey;
use crate::keyed::KeyedRateLimitLayer;
use crate::limiter::{Keyed, Refusals};
use crate::mode::{Shed, Wait};
use crate::quota::Quota;
use crate::store::{KeyedStore, StoreMetrics};

/// Builds a [`KeyedRateLimitLayer`]; made by [`Builder::key_by`].
///
/// ```
/// use std::net::IpAddr;
/// use seawall_governor::{KeyedRateLimitLayer, MissingKey, Quota, RateLimitLayer};
///
/// struct Request {
///     client: Option<IpAddr>,
/// }
///
/// // The key type is inferred where the layer wraps a service; this
/// // example never does, so it names it.
/// let layer: KeyedRateLimitLayer<_, IpAddr> = RateLimitLayer::builder()
///     .name("api")
///     .quota(Quota::per_second(1_000))
///     .key_by(|request: &Request| request.client)
///     .key_quota(Quota::per_second(10).burst(20))
///     .capacity(100_000)
///     .on_missing_key(MissingKey::Refuse)
///     .build()?;
/// assert_eq!(layer.limiter().capacity(), Some(100_000));
/// # Ok::<(), seawall_governor::ConfigError>(())
/// ```
///
/// `M` is the [mode](crate::mode): [`Shed`] unless
/// [`wait`](KeyedBuilder::wait) was called.
#[must_use = "a builder does nothing until `build` is called"]
pub struct KeyedBuilder<X, K, M = Shed> {
    common: Builder,
    extractor: X,
    key_quota: Option<Quota>,
    capacity: usize,
    missing: MissingKey<K>,
    mode: PhantomData<M>,
}

impl<X, K> KeyedBuilder<X, K> {
    pub(super) fn new(common: Builder, extractor: X) -> Self {
        KeyedBuilder {
            common,
            extractor,
            key_quota: None,
            capacity: DEFAULT_CAPACITY,
            missing: MissingKey::Refuse,
            mode: PhantomData,
        }
    }

    /// Waits up to `bound` for a key's slot instead of refusing at once,
    /// for clients that prefer to slow down per upstream host or API key.
    ///
    /// The key is only known in `call`, so the wait happens in the
    /// response future: it owns the request and the inner service made
    /// ready for it (a clone takes its place, so the service needs
    /// `Clone`), and calls it when the slot comes. Other keys are not held
    /// up meanwhile. A request that would have to wait longer than `bound`
    /// is refused at once. Must be greater than zero. See the crate docs'
    /// [keyed waits](crate#keyed-waits).
    pub fn wait(mut self, bound: Duration) -> KeyedBuilder<X, K, Wait> {
        self.common = self.common.wait(bound);
        KeyedBuilder {
            common: self.common,
            extractor: self.extractor,
            key_quota: self.key_quota,
            capacity: self.capacity,
            missing: self.missing,
            mode: PhantomData,
        }
    }

    /// Checks the configuration and builds the layer, registering its
    /// metrics: `seawall_governor_refused_total` (labels `name`, `quota`),
    /// `seawall_governor_keys`, `seawall_governor_evicted_total` and
    /// `seawall_governor_key_unavailable_total` (label `name`).
    pub fn build(self) -> Result<KeyedRateLimitLayer<X, K>, ConfigError>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
    {
        if self.common.wait.is_some() {
            return Err(ConfigError::new(
                "wait",
                "a keyed layer waits only when wait(...) is called after key_by(...), \
                 which makes its service wait in the response future",
            ));
        }
        self.build_mode()
    }
}

impl<X, K> KeyedBuilder<X, K, Wait> {
    /// Spreads each wait by a random extra of up to `jitter`, never past
    /// the wait bound, as [`Builder::jitter`] does. None unless set.
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.common = self.common.jitter(jitter);
        self
    }

    /// Seeds the jitter, for reproducible runs; random unless set.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.common = self.common.jitter_seed(seed);
        self
    }

    /// Checks the configuration and builds the waiting layer, registering
    /// the same metrics as [`KeyedBuilder::build`] does for a shedding
    /// one.
    pub fn build(self) -> Result<KeyedRateLimitLayer<X, K, Wait>, ConfigError>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
    {
        self.build_mode()
    }
}

impl<X, K, M> KeyedBuilder<X, K, M> {
    /// Names the layer in metrics, logs and health. Defaults to
    /// `"rate_limit"`.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.common = self.common.name(name);
        self
    }

    /// Adds a global quota, shared by every request whatever its key.
    pub fn quota(mut self, quota: Quota) -> Self {
        self.common = self.common.quota(quota);
        self
    }

    /// Registers the limit in `registry`; see [`Builder::health`].
    pub fn health(mut self, registry: &HealthRegistry) -> Self {
        self.common = self.common.health(registry);
        self
    }

    /// The quota each key gets. Required; one per layer.
    // FIXME: several per-key quotas would need a slot of several TATs, and
    // an eviction rank that weighs debts on different quotas.
    pub fn key_quota(mut self, quota: Quota) -> Self {
        self.key_quota = Some(quota);
        self
    }

    /// The most keys held at once; idle keys, then the keys in least
    /// debt, make room for new ones (see the crate docs). Defaults to
    /// [`DEFAULT_CAPACITY`]; at least 1.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// What to do with a request whose key cannot be found. Defaults to
    /// [`MissingKey::Refuse`].
    pub fn on_missing_key(mut self, rule: MissingKey<K>) -> Self {
        self.missing = rule;
        self
    }

    fn build_mode(self) -> Result<KeyedRateLimitLayer<X, K, M>, ConfigError>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
    {
        let Some(quota) = &self.key_quota else {
            return Err(ConfigError::new(
                "key_quota",
                "a keyed rate limit needs key_quota(...)",
            ));
        };
        if self.capacity == 0 {
            return Err(ConfigError::new(
                "capacity",
                "capacity must be at least 1, got 0",
            ));
        }
        let gcra = Gcra::new(quota, "per_key")?;
        let name = self.common.name.clone();
        let store_metrics = StoreMetrics {
            keys: metrics::gauge!("seawall_governor_keys", label::NAME => name.clone()),
            evicted: metrics::counter!(
                "seawall_governor_evicted_total",
                label::NAME => name.clone()
            ),
        };
        let refused = refused_counter(&name, gcra.name());
        let keyed = Keyed {
            store: KeyedStore::new(gcra, self.capacity, &name, store_metrics),
            refusals: Refusals::new(refused),
            missing: self.missing,
            unavailable: Refusals::new(metrics::counter!(
                "seawall_governor_key_unavailable_total",
                label::NAME => name.clone()
            )),
        };
        let limiter = self.common.build_shared(Some(keyed))?;
        Ok(KeyedRateLimitLayer::new(limiter, self.extractor))
    }
}

impl<X, K, M> fmt::Debug for KeyedBuilder<X, K, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedBuilder")
            .field("common", &self.common)
            .field("key", &std::any::type_name::<X>())
            .field("key_quota", &self.key_quota)
            .field("capacity", &self.capacity)
            .field("mode", &std::any::type_name::<M>())
            .finish_non_exhaustive()
    }
}

//! The validated configuration of a rate limit.

use std::borrow::Cow;
use std::fmt;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use seawall_core::health::{Component, HealthRegistry};
use seawall_core::names::{label, target};

use crate::error::ConfigError;
use crate::gcra::{Gcra, MAX_WINDOW};
use crate::key::MissingKey;
use crate::keyed::KeyedRateLimitLayer;
use crate::layer::RateLimitLayer;
use crate::limiter::{Keyed, Limit, RateLimiter, Refusals, Shared, WaitPolicy};
use crate::padded::Padded;
use crate::quota::Quota;
use crate::store::{KeyedStore, StoreMetrics};

/// The most keys a keyed layer holds unless told otherwise.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// The most global quotas one layer takes.
pub const MAX_GLOBAL_QUOTAS: usize = 4;

/// The metric label naming a quota.
const QUOTA_LABEL: &str = "quota";

/// Builds a [`RateLimitLayer`]; made by [`RateLimitLayer::builder`].
///
/// A layer needs at least one quota: global ones with
/// [`quota`](Builder::quota), or a per-key one after
/// [`key_by`](Builder::key_by).
///
/// ```
/// use std::time::Duration;
/// use seawall_governor::{Quota, RateLimitLayer};
///
/// // A client that slows down rather than fail: 20 requests a second,
/// // waiting up to 2 s for a slot, spread by up to 50 ms.
/// let layer = RateLimitLayer::builder()
///     .name("search-api")
///     .quota(Quota::per_second(20))
///     .quota(Quota::per_hour(10_000).named("hourly"))
///     .wait(Duration::from_secs(2))
///     .jitter(Duration::from_millis(50))
///     .build()?;
/// assert_eq!(layer.limiter().global_quotas().count(), 2);
/// # Ok::<(), seawall_governor::ConfigError>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder {
    name: Cow<'static, str>,
    quotas: Vec<Quota>,
    wait: Option<Duration>,
    jitter: Option<Duration>,
    seed: Option<u64>,
    health: Option<HealthRegistry>,
}

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
#[must_use = "a builder does nothing until `build` is called"]
pub struct KeyedBuilder<X, K> {
    common: Builder,
    extractor: X,
    key_quota: Option<Quota>,
    capacity: usize,
    missing: MissingKey<K>,
}

impl Builder {
    pub(crate) fn new() -> Self {
        Builder {
            name: Cow::Borrowed("rate_limit"),
            quotas: Vec::new(),
            wait: None,
            jitter: None,
            seed: None,
            health: None,
        }
    }

    /// Names the layer in metrics, logs and health. Defaults to
    /// `"rate_limit"`.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// Adds a global quota, shared by every request. Up to
    /// [`MAX_GLOBAL_QUOTAS`]; a request must fit all of them, and one
    /// refused by any spends none (see the crate docs).
    pub fn quota(mut self, quota: Quota) -> Self {
        self.quotas.push(quota);
        self
    }

    /// Waits up to `bound` for a slot instead of refusing at once: the
    /// service applies back pressure. A request that would need longer is
    /// refused at once. Must be greater than zero; not for keyed layers.
    pub fn wait(mut self, bound: Duration) -> Self {
        self.wait = Some(bound);
        self
    }

    /// Spreads each wait by a random extra of up to `jitter`, never past
    /// the wait bound (the crate docs give the formula). Needs
    /// [`wait`](Self::wait); none unless set.
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.jitter = Some(jitter);
        self
    }

    /// Seeds the jitter, for reproducible runs; random unless set.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Registers the limit in `registry` as a component of kind
    /// `"governor"`: its quotas with their headroom, refusals by quota
    /// and, when keyed, keys held, capacity and evictions. Its status is
    /// `warn` while a global quota has no headroom.
    pub fn health(mut self, registry: &HealthRegistry) -> Self {
        self.health = Some(registry.clone());
        self
    }

    /// Gives every key its own quota: `extractor` finds a request's key
    /// (see [`KeyExtractor`](crate::KeyExtractor)), and
    /// [`KeyedBuilder::key_quota`] sets the quota. The key type `K` is
    /// inferred from the extractor where the layer is used, or named as
    /// `KeyedRateLimitLayer<X, K>`.
    pub fn key_by<X, K>(self, extractor: X) -> KeyedBuilder<X, K> {
        KeyedBuilder {
            common: self,
            extractor,
            key_quota: None,
            capacity: DEFAULT_CAPACITY,
            missing: MissingKey::Refuse,
        }
    }

    /// Checks the configuration and builds the layer, registering its
    /// metric `seawall_governor_refused_total` (labels `name`, `quota`)
    /// and its health component.
    pub fn build(self) -> Result<RateLimitLayer, ConfigError> {
        if self.quotas.is_empty() {
            return Err(ConfigError::new(
                "quota",
                "a rate limit needs at least one quota; add one with quota(...)",
            ));
        }
        let shared = self.build_shared(None)?;
        Ok(RateLimitLayer::from_limiter(shared))
    }

    fn build_shared<K>(self, keyed: Option<Keyed<K>>) -> Result<RateLimiter<K>, ConfigError>
    where
        K: Send + Sync + 'static,
    {
        let wait = self.wait_policy(keyed.is_some())?;
        if self.quotas.len() > MAX_GLOBAL_QUOTAS {
            return Err(ConfigError::new(
                "quota",
                format!(
                    "at most {MAX_GLOBAL_QUOTAS} global quotas are allowed, got {}",
                    self.quotas.len()
                ),
            ));
        }
        let name: Arc<str> = Arc::from(&*self.name);
        let mut global = Vec::with_capacity(self.quotas.len());
        for quota in &self.quotas {
            let gcra = Gcra::new(quota, "global")?;
            let taken = global.iter().any(|l: &Limit| l.gcra.name() == gcra.name());
            let taken_by_key = keyed
                .as_ref()
                .is_some_and(|k| k.store.gcra().name() == gcra.name());
            if taken || taken_by_key {
                return Err(ConfigError::new(
                    "quota",
                    format!(
                        "two quotas are named {:?}; tell them apart with Quota::named",
                        gcra.name()
                    ),
                ));
            }
            let refusals = Refusals::new(refused_counter(&name, gcra.name()));
            global.push(Limit {
                gcra,
                tat: Padded(AtomicU64::new(0)),
                refusals,
            });
        }

        let seed = self
            .seed
            .unwrap_or_else(|| RandomState::new().hash_one(&*name));
        let shared = Arc::new(Shared {
            name,
            origin: tokio::time::Instant::now(),
            global: global.into_boxed_slice(),
            keyed,
            wait,
            seeds: AtomicU64::new(seed),
        });
        if let Some(registry) = &self.health {
            registry.register(Component::new(self.name.clone(), "governor"), &shared);
        }
        tracing::debug!(
            target: target::GOVERNOR,
            name = %shared.name,
            quotas = shared.global.len(),
            keyed = shared.keyed.is_some(),
            wait = ?self.wait,
            "rate limit built"
        );
        Ok(RateLimiter::from_shared(shared))
    }

    fn wait_policy(&self, keyed: bool) -> Result<Option<WaitPolicy>, ConfigError> {
        let Some(bound) = self.wait else {
            if self.jitter.is_some() {
                return Err(ConfigError::new(
                    "jitter",
                    "jitter spreads waits; it needs wait(...) too",
                ));
            }
            return Ok(None);
        };
        // FIXME: a keyed wait would have to happen in the response future,
        // which would then own the request and a clone of the inner
        // service; refused until a user needs it.
        if keyed {
            return Err(ConfigError::new(
                "wait",
                "wait cannot be combined with key_by: the key is read in call, \
                 after readiness",
            ));
        }
        if bound.is_zero() || bound.as_nanos() > u128::from(MAX_WINDOW) {
            return Err(ConfigError::new(
                "wait",
                format!(
                    "wait must be in 1ns..={:?}, got {bound:?}; leave it unset to \
                     refuse at once",
                    Duration::from_nanos(MAX_WINDOW)
                ),
            ));
        }
        let jitter = self.jitter.unwrap_or(Duration::ZERO);
        Ok(Some(WaitPolicy {
            bound: bound.as_nanos() as u64,
            // Clamped to the bound when drawn, so any length is safe.
            jitter: u64::try_from(jitter.as_nanos()).unwrap_or(u64::MAX),
        }))
    }
}

impl<X, K> KeyedBuilder<X, K> {
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

    /// Checks the configuration and builds the layer, registering its
    /// metrics: `seawall_governor_refused_total` (labels `name`, `quota`),
    /// `seawall_governor_keys`, `seawall_governor_evicted_total` and
    /// `seawall_governor_key_unavailable_total` (label `name`).
    pub fn build(self) -> Result<KeyedRateLimitLayer<X, K>, ConfigError>
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

fn refused_counter(name: &str, quota: &str) -> metrics::Counter {
    metrics::counter!(
        "seawall_governor_refused_total",
        label::NAME => name.to_owned(),
        QUOTA_LABEL => quota.to_owned()
    )
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("name", &self.name)
            .field("quotas", &self.quotas)
            .field("wait", &self.wait)
            .field("jitter", &self.jitter)
            .field("health", &self.health.is_some())
            .finish()
    }
}

impl<X, K> fmt::Debug for KeyedBuilder<X, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedBuilder")
            .field("common", &self.common)
            .field("key", &std::any::type_name::<X>())
            .field("key_quota", &self.key_quota)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

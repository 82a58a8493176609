//! The validated configuration of a rate limit.

mod keyed;

pub use keyed::KeyedBuilder;

use std::borrow::Cow;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use seawall_core::health::{Component, HealthRegistry};
use seawall_core::names::{label, target};

use crate::error::ConfigError;
use crate::gcra::{Gcra, MAX_WINDOW};
use crate::layer::RateLimitLayer;
use crate::limiter::{Keyed, Limit, RateLimiter, Refusals, Shared, WaitPolicy};
use crate::padded::Padded;
use crate::quota::Quota;

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
    /// refused at once. Must be greater than zero. A keyed layer waits
    /// only when told by [`KeyedBuilder::wait`], after `key_by`.
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
        KeyedBuilder::new(self, extractor)
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
        let wait = self.wait_policy()?;
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

    fn wait_policy(&self) -> Result<Option<WaitPolicy>, ConfigError> {
        let Some(bound) = self.wait else {
            if self.jitter.is_some() {
                return Err(ConfigError::new(
                    "jitter",
                    "jitter spreads waits; it needs wait(...) too",
                ));
            }
            return Ok(None);
        };
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

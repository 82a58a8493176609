//! The limiter every service of a layer shares; usable on its own, with
//! time passed in.

use std::fmt;
use std::hash::Hash;
use std::iter;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use metrics::Counter;
use seawall_core::names::target;
use seawall_core::BoxError;
use tokio::time::Instant;

use crate::admit::{self, Grants, Refusal};
use crate::error::{KeyUnavailable, QuotaPolicy, RateLimited};
use crate::gate::SplitMix;
use crate::gcra::{Gcra, Grant, Plan};
use crate::key::MissingKey;
use crate::padded::Padded;
use crate::store::KeyedStore;

/// The state of a rate limit: its quotas, their TATs and, when keyed, the
/// map of keys. Cheap to clone; clones share the state.
///
/// Every service a [`RateLimitLayer`](crate::RateLimitLayer) builds shares
/// one limiter, reached with [`RateLimitLayer::limiter`](crate::RateLimitLayer::limiter).
/// It is also usable without a service, for tests, for work that is not a
/// request, and to check at a moment of your choosing: the `_at` methods
/// take the time as an argument and never read the clock.
///
/// ```
/// use std::time::Duration;
/// use seawall_governor::{Quota, RateLimitLayer};
///
/// let layer = RateLimitLayer::builder().quota(Quota::per_second(2)).build()?;
/// let limiter = layer.limiter();
/// let start = limiter.origin();
///
/// assert!(limiter.check_at(start).is_ok());
/// assert!(limiter.check_at(start).is_ok());
/// let refused = limiter.check_at(start).unwrap_err();
/// assert_eq!(refused.policy().unwrap().limit(), 2);
///
/// // One request replenishes every 500 ms.
/// let later = start + Duration::from_millis(500);
/// assert_eq!(limiter.headroom_at(later), Some(1));
/// assert!(limiter.check_at(later).is_ok());
/// # Ok::<(), seawall_governor::ConfigError>(())
/// ```
pub struct RateLimiter<K = ()> {
    shared: Arc<Shared<K>>,
}

pub(crate) struct Shared<K> {
    pub(crate) name: Arc<str>,
    pub(crate) origin: Instant,
    pub(crate) global: Box<[Limit]>,
    pub(crate) keyed: Option<Keyed<K>>,
    pub(crate) wait: Option<WaitPolicy>,
    pub(crate) seeds: AtomicU64,
}

/// A global quota: one TAT for every request.
pub(crate) struct Limit {
    pub(crate) gcra: Gcra,
    pub(crate) tat: Padded<AtomicU64>,
    pub(crate) refusals: Refusals,
}

/// The per-key quota and what to do without a key.
pub(crate) struct Keyed<K> {
    pub(crate) store: KeyedStore<K>,
    pub(crate) refusals: Refusals,
    pub(crate) missing: MissingKey<K>,
    pub(crate) unavailable: Refusals,
}

/// A refusal count, kept for health, and its metric.
pub(crate) struct Refusals {
    pub(crate) count: AtomicU64,
    pub(crate) metric: Counter,
}

/// Waiting mode, in nanoseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WaitPolicy {
    pub(crate) bound: u64,
    pub(crate) jitter: u64,
}

impl<K> RateLimiter<K> {
    pub(crate) fn from_shared(shared: Arc<Shared<K>>) -> Self {
        RateLimiter { shared }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared<K>> {
        &self.shared
    }

    /// The layer's configured name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The moment the limiter was built; times before it count as it.
    pub fn origin(&self) -> Instant {
        self.shared.origin
    }

    /// Checks the global quotas now, counting the request if they all
    /// allow it. Never waits.
    pub fn check(&self) -> Result<(), RateLimited> {
        self.check_at(Instant::now())
    }

    /// Checks the global quotas at `now`, counting the request if they all
    /// allow it; the per-key quota, if any, is not consulted.
    pub fn check_at(&self, now: Instant) -> Result<(), RateLimited> {
        self.check_nanos(self.shared.nanos(now))
    }

    /// Checks the global quotas `since_origin` after [`origin`](Self::origin),
    /// the same as `check_at(origin + since_origin)`.
    ///
    /// For callers that keep time as offsets from the limiter's origin (a
    /// simulation, or many checks at one moment): it skips turning an
    /// [`Instant`] into the limiter's time line, which costs a few
    /// nanoseconds, a third of a check.
    ///
    /// ```
    /// use std::time::Duration;
    /// use seawall_governor::{Quota, RateLimitLayer};
    ///
    /// let limiter = RateLimitLayer::new(Quota::per_second(1)).limiter();
    /// assert!(limiter.check_after(Duration::ZERO).is_ok());
    /// assert!(limiter.check_after(Duration::from_millis(999)).is_err());
    /// assert!(limiter.check_after(Duration::from_secs(1)).is_ok());
    /// ```
    #[inline]
    pub fn check_after(&self, since_origin: Duration) -> Result<(), RateLimited> {
        self.check_nanos(duration_nanos(since_origin))
    }

    #[inline]
    fn check_nanos(&self, now: u64) -> Result<(), RateLimited> {
        let shared = &*self.shared;
        match shared.admit_global(now, &Plan::SHED) {
            Ok(_) => Ok(()),
            Err(refusal) => Err(shared.refuse(refusal, false)),
        }
    }

    /// The fewest requests any global quota would admit now; `None`
    /// without global quotas.
    pub fn headroom(&self) -> Option<u32> {
        self.headroom_at(Instant::now())
    }

    /// The fewest requests any global quota would admit at `now`; `None`
    /// without global quotas. Counts nothing.
    pub fn headroom_at(&self, now: Instant) -> Option<u32> {
        let now = self.shared.nanos(now);
        self.shared
            .global
            .iter()
            .map(|limit| limit.gcra.headroom(limit.tat.load(Relaxed), now))
            .min()
    }

    /// The global quotas, as refusals describe them, in the order they
    /// were added.
    pub fn global_quotas(&self) -> impl Iterator<Item = &QuotaPolicy> + '_ {
        self.shared.global.iter().map(|limit| limit.gcra.policy())
    }

    /// The per-key quota, if the limiter is keyed.
    pub fn key_quota(&self) -> Option<&QuotaPolicy> {
        Some(self.shared.keyed.as_ref()?.store.gcra().policy())
    }

    /// Keys held now; 0 when not keyed.
    pub fn keys(&self) -> usize {
        self.shared.keyed.as_ref().map_or(0, |k| k.store.len())
    }

    /// The most keys held at once, if the limiter is keyed.
    pub fn capacity(&self) -> Option<usize> {
        Some(self.shared.keyed.as_ref()?.store.capacity())
    }

    /// Keys evicted so far to stay within the capacity.
    pub fn evicted(&self) -> u64 {
        self.shared.keyed.as_ref().map_or(0, |k| k.store.evicted())
    }

    /// Requests refused so far by any quota, and for want of a key.
    pub fn refused(&self) -> u64 {
        self.shared.refused()
    }
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// Checks `key`'s quota and the global quotas now, counting the
    /// request on all of them if they all allow it. Never waits.
    pub fn check_key(&self, key: &K) -> Result<(), RateLimited> {
        self.check_key_at(key, Instant::now())
    }

    /// Checks `key`'s quota and the global quotas at `now`, counting the
    /// request on all of them if they all allow it, on none otherwise. On
    /// a limiter that is not keyed, the same as [`check_at`](Self::check_at).
    pub fn check_key_at(&self, key: &K, now: Instant) -> Result<(), RateLimited> {
        let now = self.shared.nanos(now);
        self.shared.admit_key(key, now, &Plan::SHED).map(drop)
    }

    /// Checks `key`'s quota and the global quotas `since_origin` after
    /// [`origin`](Self::origin), the same as
    /// `check_key_at(key, origin + since_origin)` without turning an
    /// [`Instant`] into the limiter's time line (see
    /// [`check_after`](Self::check_after)).
    #[inline]
    pub fn check_key_after(&self, key: &K, since_origin: Duration) -> Result<(), RateLimited> {
        self.shared
            .admit_key(key, duration_nanos(since_origin), &Plan::SHED)
            .map(drop)
    }

    /// How many requests `key`'s quota would admit at `now`: its whole
    /// burst when the key is not held. `None` when not keyed. Counts
    /// nothing.
    pub fn key_headroom_at(&self, key: &K, now: Instant) -> Option<u32> {
        let keyed = self.shared.keyed.as_ref()?;
        Some(keyed.store.headroom(key, self.shared.nanos(now)))
    }
}

impl<K> Shared<K> {
    /// Nanoseconds from the origin to `at`.
    #[inline]
    pub(crate) fn nanos(&self, at: Instant) -> u64 {
        duration_nanos(at.saturating_duration_since(self.origin))
    }

    pub(crate) fn refused(&self) -> u64 {
        let global: u64 = self.global.iter().map(|l| l.refusals.get()).sum();
        let keyed = self
            .keyed
            .as_ref()
            .map_or(0, |k| k.refusals.get() + k.unavailable.get());
        global + keyed
    }

    /// The plan for one request: refuse at once, or wait by the layer's
    /// policy with the next draw of `rng` (seeded on first use).
    #[inline]
    pub(crate) fn plan(&self, rng: &mut Option<SplitMix>) -> Plan {
        match self.wait {
            None => Plan::SHED,
            Some(wait) => Plan {
                max_wait: wait.bound,
                jitter: wait.jitter,
                random: match wait.jitter {
                    0 => 0,
                    _ => rng.get_or_insert_with(|| SplitMix::seeded(self)).next(),
                },
            },
        }
    }

    pub(crate) fn instant(&self, nanos: u64) -> Instant {
        self.origin + Duration::from_nanos(nanos)
    }

    fn global_quotas(&self) -> impl Iterator<Item = (&Gcra, &AtomicU64)> + Clone {
        self.global.iter().map(|limit| (&limit.gcra, &*limit.tat))
    }

    /// Admits a request on every global quota.
    #[inline]
    pub(crate) fn admit_global(&self, now: u64, plan: &Plan) -> Result<Grants, Refusal> {
        match &*self.global {
            [] => Ok(Grants::single(Grant { slot: now, prev: 0 })),
            [only] => match only.gcra.admit(&only.tat, now, plan) {
                Ok(grant) => Ok(Grants::single(grant)),
                Err(wait) => Err(Refusal { wait, quota: 0 }),
            },
            _ => admit::admit(self.global_quotas(), now, plan),
        }
    }

    /// Gives back an unused admission on the global quotas.
    pub(crate) fn release_global(&self, grants: &Grants) {
        admit::release(self.global_quotas(), grants);
    }

    /// Counts, logs and describes a refusal. `keyed` says the refusal's
    /// quota positions start with the per-key quota.
    #[cold]
    #[inline(never)]
    pub(crate) fn refuse(&self, refusal: Refusal, keyed: bool) -> RateLimited {
        let (gcra, refusals) = match (keyed, &self.keyed) {
            (true, Some(k)) if refusal.quota == 0 => (k.store.gcra(), &k.refusals),
            (true, _) => {
                let limit = &self.global[refusal.quota - 1];
                (&limit.gcra, &limit.refusals)
            }
            (false, _) => {
                let limit = &self.global[refusal.quota];
                (&limit.gcra, &limit.refusals)
            }
        };
        refusals.count.fetch_add(1, Relaxed);
        refusals.metric.increment(1);
        let retry_after = Duration::from_nanos(refusal.wait);
        tracing::trace!(
            target: target::GOVERNOR,
            name = %self.name,
            quota = gcra.name(),
            retry_after = ?retry_after,
            "request refused"
        );
        RateLimited::new(retry_after).with_policy(gcra.policy().clone())
    }
}

impl<K: Hash + Eq + Clone> Shared<K> {
    /// Admits a request of `key` on its quota and the global ones, at
    /// once or (under a waiting `plan`) at a later slot; returns the slot.
    #[inline]
    pub(crate) fn admit_key(&self, key: &K, now: u64, plan: &Plan) -> Result<u64, RateLimited> {
        let Some(keyed) = &self.keyed else {
            return self
                .admit_global(now, plan)
                .map(|grants| grants.slot)
                .map_err(|refusal| self.refuse(refusal, false));
        };
        let admitted = keyed.store.with_tat(key, now, |tat| {
            let gcra = keyed.store.gcra();
            if self.global.is_empty() {
                return match gcra.admit(tat, now, plan) {
                    Ok(grant) => Ok(grant.slot),
                    Err(wait) => Err(Refusal { wait, quota: 0 }),
                };
            }
            let quotas = iter::once((gcra, tat)).chain(self.global_quotas());
            admit::admit(quotas, now, plan).map(|grants| grants.slot)
        });
        admitted.map_err(|refusal| self.refuse(refusal, true))
    }

    /// Admits a request whose key was `key`, by the missing-key rule when
    /// it has none; returns the slot it is counted at.
    #[inline]
    pub(crate) fn admit_request(
        &self,
        key: Option<&K>,
        now: u64,
        plan: &Plan,
    ) -> Result<u64, BoxError> {
        let key = match (key, &self.keyed) {
            (Some(key), _) => key,
            (None, None) => return self.admit_key_less(now, plan),
            (None, Some(keyed)) => match &keyed.missing {
                MissingKey::Fallback(key) => key,
                MissingKey::Allow => return self.admit_key_less(now, plan),
                MissingKey::Refuse => return Err(self.refuse_key_less(keyed)),
            },
        };
        self.admit_key(key, now, plan).map_err(Into::into)
    }

    fn admit_key_less(&self, now: u64, plan: &Plan) -> Result<u64, BoxError> {
        match self.admit_global(now, plan) {
            Ok(grants) => Ok(grants.slot),
            Err(refusal) => Err(self.refuse(refusal, false).into()),
        }
    }

    #[cold]
    fn refuse_key_less(&self, keyed: &Keyed<K>) -> BoxError {
        keyed.unavailable.count.fetch_add(1, Relaxed);
        keyed.unavailable.metric.increment(1);
        tracing::trace!(
            target: target::GOVERNOR,
            name = %self.name,
            "request refused: no key"
        );
        KeyUnavailable::new(self.name.clone()).into()
    }
}

impl Refusals {
    pub(crate) fn new(metric: Counter) -> Self {
        Refusals {
            count: AtomicU64::new(0),
            metric,
        }
    }

    pub(crate) fn get(&self) -> u64 {
        self.count.load(Relaxed)
    }
}

impl<K> Clone for RateLimiter<K> {
    fn clone(&self) -> Self {
        RateLimiter {
            shared: self.shared.clone(),
        }
    }
}

impl<K> fmt::Debug for RateLimiter<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.shared, f)
    }
}

impl<K> fmt::Debug for Shared<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quotas: Vec<_> = self.global.iter().map(|l| l.gcra.policy()).collect();
        f.debug_struct("RateLimiter")
            .field("name", &self.name)
            .field("global", &quotas)
            .field("keyed", &self.keyed.as_ref().map(|k| &k.store))
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

/// `since` in whole nanoseconds, saturating after 584 years.
///
/// Whole-word arithmetic rather than `as_nanos`, whose `u128` is a
/// measurable share of a check.
#[inline]
fn duration_nanos(since: Duration) -> u64 {
    since
        .as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(since.subsec_nanos()))
}

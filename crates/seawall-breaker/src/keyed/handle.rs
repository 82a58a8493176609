//! What an operator sees of a keyed layer, and its health report.

use std::fmt;
use std::sync::Arc;

use seawall_core::health::{Component, HealthRegistry, HealthReport, ReportHealth, Status};
use tokio::time::Instant;

use super::map::BreakerMap;
use crate::handle::BreakerHandle;
use crate::state::BreakerState;

/// The health component kind of a keyed layer.
pub const KEYED_HEALTH_KIND: &str = "keyed_circuit_breaker";

/// A cloneable handle to a keyed layer's breakers, for operators: list the
/// keys held and their states, and reach one key's breaker to read or
/// control it.
///
/// Get one from
/// [`KeyedCircuitBreakerLayer::handle`](crate::KeyedCircuitBreakerLayer::handle).
///
/// ```
/// use seawall_breaker::{BreakerState, KeyedBreakerConfig, KeyedCircuitBreakerLayer};
///
/// let layer = KeyedCircuitBreakerLayer::new(KeyedBreakerConfig::default(), |host: &&'static str| *host);
/// let handle = layer.handle();
/// handle.force_open("db.internal");
/// assert_eq!(handle.keys(), [("db.internal".into(), BreakerState::ForcedOpen)]);
/// assert!(handle.force_closed("db.internal"));
/// assert_eq!(handle.get("db.internal").unwrap().state(), BreakerState::Closed);
/// ```
///
/// A [`BreakerHandle`] it returns stays tied to that breaker: if the key is
/// evicted later, the handle controls a breaker the layer no longer uses.
/// A key an operator forces open is kept like any open key (see the
/// [eviction rule](crate#eviction)); a key disabled or put in metrics-only
/// mode is kept only while it is held.
#[derive(Clone)]
pub struct KeyedBreakerHandle {
    map: Arc<BreakerMap>,
}

impl KeyedBreakerHandle {
    pub(crate) fn new(map: Arc<BreakerMap>) -> Self {
        KeyedBreakerHandle { map }
    }

    /// The layer's name.
    pub fn name(&self) -> &str {
        self.map.name()
    }

    /// How many keys are held now.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Returns `true` when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most keys held at once.
    pub fn capacity(&self) -> usize {
        self.map.capacity()
    }

    /// Keys evicted to make room since the layer was built.
    pub fn evictions(&self) -> u64 {
        self.map.evictions()
    }

    /// Every held key and the state its next call would find, sorted by
    /// key.
    pub fn keys(&self) -> Vec<(Arc<str>, BreakerState)> {
        let now = Instant::now();
        let mut keys: Vec<_> = self
            .map
            .entries()
            .into_iter()
            .map(|(key, breaker)| (key, breaker.state_at(now)))
            .collect();
        keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        keys
    }

    /// The breaker of `key`, if it is held. Asking does not count as a use
    /// of the key.
    pub fn get(&self, key: &str) -> Option<BreakerHandle> {
        self.map.get(key).map(BreakerHandle::new)
    }

    /// The breaker of `key`, added if it is not held (which may evict
    /// another key, as a call would).
    pub fn get_or_insert(&self, key: &str) -> BreakerHandle {
        BreakerHandle::new(self.map.get_or_insert(key))
    }

    /// Forces the breaker of `key` open, adding the key if it is not held,
    /// so an operator can cut off an upstream before it is ever called.
    /// See [`BreakerHandle::force_open`].
    pub fn force_open(&self, key: &str) -> BreakerHandle {
        let handle = self.get_or_insert(key);
        handle.force_open();
        handle
    }

    /// Closes the breaker of `key` (see [`BreakerHandle::force_closed`]);
    /// returns `false`, and does nothing, if the key is not held, since a
    /// key added later starts closed.
    pub fn force_closed(&self, key: &str) -> bool {
        match self.get(key) {
            Some(handle) => {
                handle.force_closed();
                true
            }
            None => false,
        }
    }

    /// Registers the layer in `registry` as one component (see
    /// [`KeyedCircuitBreakerLayer::with_health`](crate::KeyedCircuitBreakerLayer::with_health)).
    pub(crate) fn register_health(&self, registry: &HealthRegistry) {
        let component = Component::new(self.map.name().to_owned(), KEYED_HEALTH_KIND)
            .critical(self.map.template().is_critical());
        registry.register(component, &self.map);
    }
}

impl ReportHealth for BreakerMap {
    fn report(&self) -> HealthReport {
        let now = Instant::now();
        let (mut open, mut half_open) = (0u64, 0u64);
        let entries = self.entries();
        for (_, breaker) in &entries {
            match breaker.state_at(now) {
                BreakerState::Open | BreakerState::ForcedOpen => open += 1,
                BreakerState::HalfOpen => half_open += 1,
                _ => {}
            }
        }
        let keys = entries.len() as u64;
        let status = if keys > 0 && open == keys {
            Status::Fail
        } else if open + half_open > 0 {
            Status::Warn
        } else {
            Status::Pass
        };
        HealthReport::new(status)
            .observe("keys", keys)
            .observe("capacity", self.capacity() as u64)
            .observe("open", open)
            .observe("half_open", half_open)
            .observe("evictions", self.evictions())
    }
}

impl fmt::Debug for KeyedBreakerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("KeyedBreakerHandle")
            .field(&self.map)
            .finish()
    }
}

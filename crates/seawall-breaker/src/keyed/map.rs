//! The keyed layer's breakers: a sharded map with a capacity that makes
//! room by itself when a key is added.
//!
//! The map is cut into shards, each a `std::sync::RwLock` around a
//! `HashMap` from key to breaker, on cache lines of their own. Finding a
//! held key takes its shard's read lock (readers do not wait for each
//! other), hashes the borrowed key and clones the breaker's handle: no
//! allocation. Only adding a key takes a write lock. The breaker's own
//! closed path stays free of locks; the map is a lookup in front of it.
//!
//! A key is hashed once, with the map's random seed (SipHash, so keys an
//! attacker picks cannot pile up in one place): the hash picks the shard,
//! and the shard's own map reuses it rather than hashing the key again.
//!
//! The capacity is one count for the whole map: a key takes its place
//! (`held`) under its shard's write lock just before it goes in, and only
//! if the count is below the capacity, so the map never holds more. When
//! it is full, the inserting caller evicts (see [`evict`](super::evict))
//! and tries again.
//!
//! Recency is counted in inserts, not in time: a shard's clock advances
//! when it adds a key, and a lookup stamps the key with the clock (a store
//! only when the stamp changes, so a busy key does not bounce its cache
//! line between threads). Eviction compares stamps within one shard and
//! only happens on insert, so that is all the resolution it needs, and no
//! lookup reads the time.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use seawall_core::names::target;
use tokio::time::Instant;

use super::config::KeyedBreakerConfig;
use super::evict::{self, Candidate, Rank};
use super::stored::{KeyBytes, Lookup, PassThrough, Probe, Stored};
use crate::breaker::Breaker;
use crate::config::BreakerConfig;
use crate::state::{BreakerState, Word};
use crate::sync::{Ordering, Padded};
use crate::telemetry::{is_tripped, KeyedTelemetry, Telemetry};

/// Shards for large capacities; each has a lock of its own.
const MAX_SHARDS: usize = 16;
/// The fewest keys a shard is meant to hold: below twice this, one shard,
/// where eviction is exact.
const MIN_SHARD_KEYS: usize = 256;
/// A full map evicts up to this share of a shard's keys at once.
const EVICT_DIVISOR: usize = 16;

pub(crate) struct BreakerMap {
    shards: Box<[Padded<RwLock<Shard>>]>,
    hasher: RandomState,
    /// Keys held, plus the one being added under a shard's write lock.
    held: Padded<AtomicUsize>,
    capacity: usize,
    /// How many idle keys one eviction takes at most.
    batch: usize,
    template: BreakerConfig,
    telemetry: KeyedTelemetry,
    evictions: AtomicU64,
}

#[derive(Default)]
struct Shard {
    map: HashMap<Stored, Entry, PassThrough>,
    /// Inserts so far: the unit of `Entry::last_used`.
    clock: u64,
}

struct Entry {
    // The map holds the breaker's own `Arc`, and a call clones it: one
    // pointer from the bucket to the breaker, where a service's private
    // handle would add a second hop through memory.
    breaker: Arc<Breaker>,
    last_used: AtomicU64,
}

/// Keys let go, with their breakers, dropped once no lock is held.
type Evicted = Vec<(Arc<str>, Arc<Breaker>)>;

impl BreakerMap {
    /// An empty map; registers the layer's metrics.
    pub(crate) fn new(config: &KeyedBreakerConfig) -> Self {
        let capacity = config.capacity;
        let shards = shard_count(capacity);
        BreakerMap {
            shards: (0..shards).map(|_| Padded(RwLock::default())).collect(),
            hasher: RandomState::new(),
            held: Padded(AtomicUsize::new(0)),
            capacity,
            batch: (capacity / shards / EVICT_DIVISOR).max(1),
            template: config.template.clone(),
            telemetry: KeyedTelemetry::register(config.name()),
            evictions: AtomicU64::new(0),
        }
    }

    pub(crate) fn name(&self) -> &str {
        self.template.name()
    }

    pub(crate) fn template(&self) -> &BreakerConfig {
        &self.template
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The breaker of `key`, added (and room made for it) if it is not
    /// held.
    // With 10,000 keys called in random order, finding the key takes about
    // 40 ns and the whole call 55-85 ns on a quiet two-core machine, but
    // 60-115 ns and 140-380 ns when other processes share the last-level
    // cache: a breaker out of cache costs about five cache misses of its
    // own (cachegrind: 7.7 last-level misses a call in all). What would
    // shrink that is the breaker's layout: its `Arc` header sits 128 bytes
    // before the data (the padded counters align it), the success counter
    // one line past the state word, and the window's enum tag on a line of
    // its own before its hot line. Moving those together means reshaping
    // `Window`, which a keyed hook should not do alone.
    #[inline]
    pub(crate) fn get_or_insert(&self, key: &str) -> Arc<Breaker> {
        let probe = self.probe(key);
        let index = self.shard_index(&probe);
        if let Some(breaker) = read(&self.shards[index]).find(&probe) {
            return breaker;
        }
        self.insert(index, probe)
    }

    /// The breaker of `key` if it is held; does not count as a use.
    pub(crate) fn get(&self, key: &str) -> Option<Arc<Breaker>> {
        let probe = self.probe(key);
        let shard = read(&self.shards[self.shard_index(&probe)]);
        let entry = shard.map.get(&probe as &dyn Lookup)?;
        Some(entry.breaker.clone())
    }

    /// Every held key and its breaker, in no particular order.
    pub(crate) fn entries(&self) -> Vec<(Arc<str>, Arc<Breaker>)> {
        let mut entries = Vec::with_capacity(self.len());
        for shard in self.shards.iter() {
            let shard = read(shard);
            entries.extend(
                shard
                    .map
                    .iter()
                    .map(|(stored, entry)| (stored.key.to_shared(), entry.breaker.clone())),
            );
        }
        entries
    }

    /// Keys held (a key being added may count a moment early).
    pub(crate) fn len(&self) -> usize {
        self.held.load(Relaxed)
    }

    pub(crate) fn evictions(&self) -> u64 {
        self.evictions.load(Relaxed)
    }

    #[inline]
    fn probe<'a>(&self, key: &'a str) -> Probe<'a> {
        Probe {
            hash: self.hasher.hash_one(key),
            key,
        }
    }

    #[inline]
    fn shard_index(&self, probe: &Probe<'_>) -> usize {
        // The shard's map takes its bucket from the low bits and its tag
        // from the top seven: the shard comes from bits in between, so
        // the keys of one shard still spread over both. The shard count is
        // a power of two.
        (probe.hash >> 32) as usize & (self.shards.len() - 1)
    }

    #[cold]
    #[inline(never)]
    fn insert(&self, index: usize, probe: Probe<'_>) -> Arc<Breaker> {
        let key = probe.key;
        // Naming and building the breaker allocate: do it before taking
        // a lock, at the price of a wasted breaker if another caller adds
        // the key first.
        let config = self
            .template
            .clone()
            .with_name(format!("{}/{key}", self.name()));
        let telemetry = Telemetry::for_key(&self.telemetry);
        let breaker = Breaker::with_telemetry(&config, Instant::now(), telemetry);
        let fresh = Arc::new(breaker);
        let mut stored: Option<KeyBytes> = None;

        loop {
            let mut shard = write(&self.shards[index]);
            if let Some(breaker) = shard.find(&probe) {
                return breaker;
            }
            if self.reserve() {
                shard.clock += 1;
                let entry = Entry {
                    breaker: fresh.clone(),
                    last_used: AtomicU64::new(shard.clock),
                };
                let key = stored.take().unwrap_or_else(|| KeyBytes::new(key));
                let hash = probe.hash;
                shard.map.insert(Stored { hash, key }, entry);
                drop(shard);
                self.telemetry.inserted();
                return fresh;
            }
            // Allocate the key while no lock is held, once.
            drop(shard);
            if stored.is_none() {
                stored = Some(KeyBytes::new(key));
            }

            // Full: make room and try again. If nothing could be evicted,
            // the places are taken by keys going in under other shards'
            // locks right now, which will be there to evict next time.
            let evicted = self.make_room(index);
            if !evicted.is_empty() {
                self.telemetry.evicted(evicted.len());
                self.evictions.fetch_add(evicted.len() as u64, Relaxed);
                announce(self.name(), &evicted);
            }
        }
    }

    /// Takes a place for one key, if the map is not full.
    fn reserve(&self) -> bool {
        self.held
            .fetch_update(Relaxed, Relaxed, |held| {
                (held < self.capacity).then_some(held + 1)
            })
            .is_ok()
    }

    /// Evicts keys of the lowest rank held anywhere, looking first in the
    /// shard `first`.
    fn make_room(&self, first: usize) -> Evicted {
        let count = self.shards.len();
        for worst in [Rank::Idle, Rank::Busy, Rank::Tripped] {
            for offset in 0..count {
                let mut shard = write(&self.shards[(first + offset) % count]);
                let evicted = shard.evict(self.batch, worst);
                if !evicted.is_empty() {
                    self.held.fetch_sub(evicted.len(), Relaxed);
                    return evicted;
                }
            }
        }
        Vec::new()
    }
}

impl Shard {
    /// The breaker of a held key, stamped as used now.
    #[inline]
    fn find(&self, probe: &Probe<'_>) -> Option<Arc<Breaker>> {
        let entry = self.map.get(probe as &dyn Lookup)?;
        if entry.last_used.load(Relaxed) != self.clock {
            entry.last_used.store(self.clock, Relaxed);
        }
        Some(entry.breaker.clone())
    }

    /// Evicts up to `batch` idle keys, or else one key ranked no higher
    /// than `worst`.
    fn evict(&mut self, batch: usize, worst: Rank) -> Evicted {
        let candidates = self.map.iter().map(|(stored, entry)| Candidate {
            rank: rank(&entry.breaker),
            last_used: entry.last_used.load(Relaxed),
            key: stored,
        });
        let chosen: Vec<(u64, Arc<str>)> = evict::choose(candidates, batch, worst)
            .into_iter()
            .map(|stored| (stored.hash, stored.key.to_shared()))
            .collect();
        chosen
            .into_iter()
            .filter_map(|(hash, key)| {
                let probe = Probe { hash, key: &key };
                let (_, entry) = self.map.remove_entry(&probe as &dyn Lookup)?;
                Some((key, entry.breaker))
            })
            .collect()
    }
}

/// How many shards a capacity is cut into: a power of two, at most
/// [`MAX_SHARDS`], each meant for at least [`MIN_SHARD_KEYS`] keys.
fn shard_count(capacity: usize) -> usize {
    let wanted = (capacity / MIN_SHARD_KEYS).clamp(1, MAX_SHARDS);
    1 << wanted.ilog2()
}

/// The stored state of a breaker, as eviction ranks it.
fn stored_state(breaker: &Breaker) -> BreakerState {
    Word(breaker.state.load(Ordering::Acquire)).state()
}

fn rank(breaker: &Arc<Breaker>) -> Rank {
    if is_tripped(stored_state(breaker)) {
        Rank::Tripped
    } else if Arc::strong_count(breaker) > 1 {
        // A call in flight holds a clone of the map's `Arc` (and so does
        // an operator's handle, which counts as a use too).
        Rank::Busy
    } else {
        Rank::Idle
    }
}

fn announce(name: &str, evicted: &Evicted) {
    let tripped = evicted
        .iter()
        .filter(|(_, breaker)| is_tripped(stored_state(breaker)))
        .count();
    tracing::debug!(
        target: target::BREAKER,
        name,
        evicted = evicted.len(),
        tripped,
        "keyed breaker evicted keys"
    );
    for (key, breaker) in evicted {
        tracing::trace!(
            target: target::BREAKER,
            name,
            key = &**key,
            state = stored_state(breaker).as_str(),
            "key evicted"
        );
    }
}

fn read(shard: &RwLock<Shard>) -> RwLockReadGuard<'_, Shard> {
    // Nothing under the lock can panic halfway through a change: a map
    // insert or remove is whole, so a poisoned lock still guards a
    // consistent map.
    shard.read().unwrap_or_else(PoisonError::into_inner)
}

fn write(shard: &RwLock<Shard>) -> RwLockWriteGuard<'_, Shard> {
    shard.write().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for BreakerMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakerMap")
            .field("name", &self.name())
            .field("keys", &self.len())
            .field("capacity", &self.capacity)
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(seawall_loom)))]
mod tests {
    use super::*;

    #[test]
    fn shards_are_a_power_of_two_and_never_tiny() {
        assert_eq!(shard_count(1), 1);
        assert_eq!(shard_count(511), 1);
        assert_eq!(shard_count(512), 2);
        assert_eq!(shard_count(1_000), 2);
        assert_eq!(shard_count(4_096), 16);
        assert_eq!(shard_count(10_000), 16);
        assert_eq!(shard_count(usize::MAX), 16);
    }

    #[test]
    fn a_full_map_evicts_exactly_enough_across_shards() {
        let config = KeyedBreakerConfig::builder()
            .capacity(4_096)
            .build()
            .unwrap();
        let map = BreakerMap::new(&config);
        for i in 0..4_096 {
            map.get_or_insert(&format!("k{i}"));
        }
        assert_eq!((map.len(), map.evictions()), (4_096, 0));
        let counted: usize = map.shards.iter().map(|s| read(s).map.len()).sum();
        assert_eq!(counted, 4_096);

        map.get_or_insert("one more");
        let counted: usize = map.shards.iter().map(|s| read(s).map.len()).sum();
        assert_eq!(counted, map.len());
        assert!(map.len() <= 4_096);
        // One batch: a sixteenth of a shard's share.
        assert_eq!(map.evictions(), 4_096 / 16 / 16);
    }
}

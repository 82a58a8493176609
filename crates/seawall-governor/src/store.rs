//! The state of a per-key quota: a sharded map from key to TAT, with a
//! capacity that it keeps by itself.
//!
//! The map is cut into shards, each a `std::sync::RwLock` around a
//! `hashbrown::HashTable` of `(TAT, key)` slots, on cache lines of their
//! own. A key is hashed once, with a randomly seeded SipHash (keys come
//! from clients, who must not be able to pick colliding ones); the hash
//! picks the shard and then the slot. Finding a held key takes its shard's
//! read lock and allocates nothing; admission is then the usual
//! compare-and-swap on the slot's TAT, still under the read lock, so no
//! slot is removed while it is being written. Only adding a key takes the
//! write lock.
//!
//! Each shard holds at most its share of the capacity (the shares add up
//! to the capacity exactly). A shard that is full when a key arrives
//! evicts before adding it, by this rule:
//!
//! 1. every idle key goes: one whose TAT is at or before now, so its
//!    bucket is full and forgetting it changes nothing (a new key starts
//!    with a full bucket too);
//! 2. if that frees fewer than a sixteenth of the shard, the keys in the
//!    least debt go too, lowest TAT first, until a sixteenth is free.
//!
//! Forgetting a key that is not idle forgives its debt: its next request
//! starts from a full bucket. Taking the lowest TATs forgives the least,
//! and a key that is limited (its next request would be refused) has a
//! higher TAT than any idle key, so within a shard no limited key is
//! forgotten while an idle one is held. A pass reads the shard twice and
//! frees at least a sixteenth of it, so eviction costs a constant amount
//! of work per added key, amortized, and no lookup has to record recency.

use std::fmt;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hashbrown::HashTable;
use metrics::{Counter, Gauge};
use seawall_core::names::target;

use crate::gcra::Gcra;
use crate::padded::Padded;

/// Shards for large capacities; each has a lock of its own.
const MAX_SHARDS: usize = 64;
/// The fewest keys a shard is meant to hold: below twice this, one shard,
/// where the eviction rule holds across every key.
const MIN_SHARD_KEYS: usize = 256;
/// A full shard frees at least this share of itself at once.
const EVICT_DIVISOR: usize = 16;

pub(crate) struct KeyedStore<K> {
    shards: Box<[Padded<RwLock<Shard<K>>>]>,
    hasher: RandomState,
    gcra: Gcra,
    capacity: usize,
    held: AtomicUsize,
    evicted: AtomicU64,
    metrics: StoreMetrics,
    name: String,
}

/// Metric handles of a keyed quota, registered when the layer is built.
pub(crate) struct StoreMetrics {
    pub(crate) keys: Gauge,
    pub(crate) evicted: Counter,
}

struct Shard<K> {
    table: HashTable<Slot<K>>,
    capacity: usize,
}

struct Slot<K> {
    tat: AtomicU64,
    key: K,
}

/// What one eviction pass let go.
#[derive(Debug, Default)]
struct Evicted {
    keys: usize,
    /// Keys whose next request would have been refused.
    limited: usize,
}

impl<K: Hash + Eq + Clone> KeyedStore<K> {
    pub(crate) fn new(gcra: Gcra, capacity: usize, name: &str, metrics: StoreMetrics) -> Self {
        let count = shard_count(capacity);
        let shards = (0..count)
            .map(|index| {
                // The first `capacity % count` shards take one more key.
                let share = capacity / count + usize::from(index < capacity % count);
                Padded(RwLock::new(Shard {
                    table: HashTable::new(),
                    capacity: share,
                }))
            })
            .collect();
        KeyedStore {
            shards,
            hasher: RandomState::new(),
            gcra,
            capacity,
            held: AtomicUsize::new(0),
            evicted: AtomicU64::new(0),
            metrics,
            name: name.to_owned(),
        }
    }

    /// Runs `admit` on the TAT of `key`, adding the key (and making room
    /// for it) if it is not held.
    #[inline]
    pub(crate) fn with_tat<R>(&self, key: &K, now: u64, admit: impl FnOnce(&AtomicU64) -> R) -> R {
        let hash = self.hasher.hash_one(key);
        let shard = &self.shards[self.shard_index(hash)];
        {
            let shard = read(shard);
            if let Some(slot) = shard.table.find(hash, |slot| slot.key == *key) {
                return admit(&slot.tat);
            }
        }
        self.insert_then(shard, hash, key, now, admit)
    }

    /// How many requests of `key` would conform at `now`; a key that is
    /// not held has a full bucket.
    pub(crate) fn headroom(&self, key: &K, now: u64) -> u32 {
        let hash = self.hasher.hash_one(key);
        let shard = read(&self.shards[self.shard_index(hash)]);
        match shard.table.find(hash, |slot| slot.key == *key) {
            Some(slot) => self.gcra.headroom(slot.tat.load(Relaxed), now),
            None => self.gcra.burst(),
        }
    }

    #[cold]
    #[inline(never)]
    fn insert_then<R>(
        &self,
        shard: &RwLock<Shard<K>>,
        hash: u64,
        key: &K,
        now: u64,
        admit: impl FnOnce(&AtomicU64) -> R,
    ) -> R {
        let mut shard = write(shard);
        if let Some(slot) = shard.table.find(hash, |slot| slot.key == *key) {
            // Another request added it meanwhile.
            return admit(&slot.tat);
        }
        let evicted = if shard.table.len() >= shard.capacity {
            shard.evict(now, &self.gcra)
        } else {
            Evicted::default()
        };
        let slot = Slot {
            tat: AtomicU64::new(0),
            key: key.clone(),
        };
        let entry = shard
            .table
            .insert_unique(hash, slot, |slot| self.hasher.hash_one(&slot.key));
        let result = admit(&entry.get().tat);
        // Counted under the lock, so the count never runs ahead of the
        // shards and never exceeds the capacity.
        self.held.fetch_sub(evicted.keys, Relaxed);
        self.held.fetch_add(1, Relaxed);
        drop(shard);

        self.metrics.keys.increment(1.0);
        if evicted.keys > 0 {
            self.evicted.fetch_add(evicted.keys as u64, Relaxed);
            self.metrics.keys.decrement(evicted.keys as f64);
            self.metrics.evicted.increment(evicted.keys as u64);
            tracing::debug!(
                target: target::GOVERNOR,
                name = %self.name,
                evicted = evicted.keys,
                limited = evicted.limited,
                "keys evicted"
            );
        }
        result
    }

    #[inline]
    fn shard_index(&self, hash: u64) -> usize {
        // Bits the table itself does not use: it takes the low bits for
        // the bucket and the top seven for its tags.
        (hash >> 32) as usize & (self.shards.len() - 1)
    }
}

impl<K> KeyedStore<K> {
    pub(crate) fn gcra(&self) -> &Gcra {
        &self.gcra
    }

    /// Keys held now.
    pub(crate) fn len(&self) -> usize {
        self.held.load(Relaxed)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Keys evicted so far.
    pub(crate) fn evicted(&self) -> u64 {
        self.evicted.load(Relaxed)
    }
}

impl<K> Shard<K> {
    /// Makes room by the rule in the module docs. The write lock is held,
    /// so no TAT changes while the shard is read twice.
    fn evict(&mut self, now: u64, gcra: &Gcra) -> Evicted {
        let batch = (self.capacity / EVICT_DIVISOR).max(1);
        let idle = self
            .table
            .iter()
            .filter(|slot| slot.tat.load(Relaxed) <= now)
            .count();
        if idle >= batch {
            self.table.retain(|slot| slot.tat.load(Relaxed) > now);
            return Evicted {
                keys: idle,
                limited: 0,
            };
        }

        // Too few idle keys: find the TAT below which the other keys in
        // the least debt make up the rest of the batch. The shard is full,
        // so it holds at least `batch` keys and the rank exists.
        let wanted = batch - idle;
        let mut debts: Vec<u64> = self
            .table
            .iter()
            .map(|slot| slot.tat.load(Relaxed))
            .filter(|&tat| tat > now)
            .collect();
        let threshold = *debts.select_nth_unstable(wanted - 1).1;
        let below = debts.iter().filter(|&&tat| tat < threshold).count();
        let mut ties = wanted - below;

        let mut evicted = Evicted::default();
        self.table.retain(|slot| {
            let tat = slot.tat.load(Relaxed);
            let tie = tat == threshold && ties > 0;
            if tie {
                ties -= 1;
            }
            let goes = tat <= now || tat < threshold || tie;
            if goes {
                evicted.keys += 1;
                evicted.limited += usize::from(gcra.wait(tat, now) > 0);
            }
            !goes
        });
        evicted
    }
}

/// How many shards a capacity is cut into: a power of two, at most
/// [`MAX_SHARDS`], each meant for at least [`MIN_SHARD_KEYS`] keys.
fn shard_count(capacity: usize) -> usize {
    let wanted = (capacity / MIN_SHARD_KEYS).clamp(1, MAX_SHARDS);
    1 << wanted.ilog2()
}

fn read<K>(shard: &RwLock<Shard<K>>) -> RwLockReadGuard<'_, Shard<K>> {
    // Nothing under the lock panics halfway through a change (an insert
    // or a retain is whole), so a poisoned shard is still consistent.
    shard.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<K>(shard: &RwLock<Shard<K>>) -> RwLockWriteGuard<'_, Shard<K>> {
    shard.write().unwrap_or_else(PoisonError::into_inner)
}

impl<K> fmt::Debug for KeyedStore<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedStore")
            .field("quota", &self.gcra.name())
            .field("keys", &self.len())
            .field("capacity", &self.capacity)
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quota::Quota;

    fn store(capacity: usize) -> KeyedStore<u32> {
        let gcra = Gcra::new(&Quota::per_second(1).burst(2), "per_key").unwrap();
        let metrics = StoreMetrics {
            keys: Gauge::noop(),
            evicted: Counter::noop(),
        };
        KeyedStore::new(gcra, capacity, "test", metrics)
    }

    fn spend(store: &KeyedStore<u32>, key: u32, now: u64) {
        store.with_tat(&key, now, |tat| tat.fetch_add(1_000_000_000, Relaxed));
    }

    #[test]
    fn shards_are_a_power_of_two_and_their_shares_add_up() {
        assert_eq!(shard_count(1), 1);
        assert_eq!(shard_count(511), 1);
        assert_eq!(shard_count(512), 2);
        assert_eq!(shard_count(100_000), 64);
        let store = store(100_001);
        let total: usize = store.shards.iter().map(|s| read(s).capacity).sum();
        assert_eq!(total, 100_001);
    }

    #[test]
    fn without_idle_keys_the_least_indebted_sixteenth_goes() {
        let store = store(32);
        // Keys 0..32, key k in debt by k + 1 seconds.
        for key in 0..32 {
            store.with_tat(&key, 0, |tat| {
                tat.store(u64::from(key + 1) * 1_000_000_000, Relaxed)
            });
        }
        spend(&store, 100, 0);
        assert_eq!((store.len(), store.evicted()), (31, 2));
        assert_eq!(store.headroom(&0, 0), 2, "key 0 was forgotten");
        assert_eq!(store.headroom(&1, 0), 2, "and key 1");
        assert_eq!(store.headroom(&2, 0), 0, "key 2 is still in debt");
    }
}

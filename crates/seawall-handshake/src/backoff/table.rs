//! The shared memory of which upstreams asked for time, and until when.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use metrics::Counter;
use tokio::time::Instant;

/// Back-off deadlines keyed by a hash of the upstream's authority.
///
/// The key is a 64-bit hash (lowercased, seeded per table) rather than the
/// authority itself, so a response future can carry it without cloning or
/// allocating anything.
#[derive(Debug)]
pub(crate) struct Table {
    capacity: usize,
    hasher: RandomState,
    origin: Instant,
    /// Nanoseconds from `origin` to the latest deadline ever recorded.
    /// Once it has passed, nothing backs off and calls skip the lock.
    horizon: AtomicU64,
    entries: Mutex<HashMap<u64, Instant>>,
    /// Calls failed fast, `seawall_handshake_backoff_refused_total`.
    pub(crate) refused: Counter,
}

impl Table {
    pub(crate) fn new(capacity: usize, refused: Counter) -> Self {
        Table {
            capacity,
            refused,
            hasher: RandomState::new(),
            origin: Instant::now(),
            horizon: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of authorities remembered, expired or not.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Hostnames are case-insensitive, so `API.example` and `api.example`
    /// share one entry.
    pub(crate) fn key(&self, authority: &str) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        for byte in authority.bytes() {
            hasher.write_u8(byte.to_ascii_lowercase());
        }
        hasher.finish()
    }

    /// The time left before `key` may be called again, if any.
    pub(crate) fn remaining(&self, key: u64, now: Instant) -> Option<Duration> {
        if self.nanos(now) >= self.horizon.load(Ordering::Acquire) {
            return None;
        }

        let mut entries = self.lock();
        let until = *entries.get(&key)?;
        if until <= now {
            entries.remove(&key);
            return None;
        }
        Some(until - now)
    }

    /// Remembers that `key` asked for time until `until`; an earlier
    /// deadline never shortens a later one. Returns whether it changed.
    pub(crate) fn record(&self, key: u64, until: Instant, now: Instant) -> bool {
        let mut entries = self.lock();
        match entries.get_mut(&key) {
            Some(existing) if *existing >= until => return false,
            Some(existing) => *existing = until,
            None => {
                if entries.len() >= self.capacity {
                    evict(&mut entries, now, self.capacity);
                }
                entries.insert(key, until);
            }
        }
        self.horizon.fetch_max(self.nanos(until), Ordering::Release);
        true
    }

    fn nanos(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(since).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Instant>> {
        // The map is never left half-updated, so a panic elsewhere while it
        // was held does not make it wrong.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Makes room for one entry: the expired ones go first, and if none has
/// expired, the one that would expire soonest.
fn evict(entries: &mut HashMap<u64, Instant>, now: Instant, capacity: usize) {
    entries.retain(|_, until| *until > now);
    if entries.len() < capacity {
        return;
    }
    let soonest = entries
        .iter()
        .min_by_key(|(_, until)| **until)
        .map(|(key, _)| *key);
    if let Some(key) = soonest {
        entries.remove(&key);
    }
}

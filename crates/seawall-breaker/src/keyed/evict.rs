//! Which keys make room for a new one.
//!
//! A full map lets go of keys in this order:
//!
//! 1. idle keys: the breaker admits calls (closed, or disabled or
//!    metrics-only by an operator) and no call is in flight through it;
//!    the least recently used first, up to a batch at once;
//! 2. if there is none, one busy key: admitting, with calls in flight
//!    (they finish on the breaker they started with);
//! 3. if there is none, one tripped key: open, half-open or forced open,
//!    the least recently used first.
//!
//! A tripped breaker is what keeps traffic off a failing upstream, so it
//! goes last: forgetting it would let the next request for that key
//! through a fresh, closed breaker. Taking a batch of idle keys at once
//! spreads the cost of looking through a shard over many inserts. The map
//! asks its shards one at a time, the inserting key's own shard first,
//! for keys of each rank in turn, so no shard gives up a tripped key while
//! another still holds an idle one.

/// How a held key ranks for eviction: the lower goes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rank {
    Idle,
    Busy,
    Tripped,
}

/// A held key, as eviction sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<K> {
    pub(crate) rank: Rank,
    /// The shard's insert count when the key was last looked up.
    pub(crate) last_used: u64,
    pub(crate) key: K,
}

/// The keys to evict from one shard: up to `batch` idle ones, least
/// recently used first, or else the single lowest ranked, least recently
/// used key if it ranks no higher than `worst`. Empty when there is no
/// such key.
pub(crate) fn choose<K>(
    candidates: impl Iterator<Item = Candidate<K>>,
    batch: usize,
    worst: Rank,
) -> Vec<K> {
    let mut idle = Vec::new();
    let mut fallback: Option<Candidate<K>> = None;
    for candidate in candidates {
        if candidate.rank == Rank::Idle {
            idle.push((candidate.last_used, candidate.key));
            continue;
        }
        let better = fallback
            .as_ref()
            .is_none_or(|best| (candidate.rank, candidate.last_used) < (best.rank, best.last_used));
        if better {
            fallback = Some(candidate);
        }
    }

    if idle.is_empty() {
        return fallback
            .filter(|c| c.rank <= worst)
            .map(|c| c.key)
            .into_iter()
            .collect();
    }
    let batch = batch.max(1);
    if idle.len() > batch {
        idle.select_nth_unstable_by_key(batch - 1, |(last_used, _)| *last_used);
        idle.truncate(batch);
    }
    idle.into_iter().map(|(_, key)| key).collect()
}

#[cfg(all(test, not(seawall_loom)))]
mod tests {
    use super::*;

    fn candidate(rank: Rank, last_used: u64, key: &'static str) -> Candidate<&'static str> {
        Candidate {
            rank,
            last_used,
            key,
        }
    }

    #[test]
    fn idle_keys_go_first_oldest_first() {
        let held = [
            candidate(Rank::Tripped, 0, "open"),
            candidate(Rank::Busy, 1, "busy"),
            candidate(Rank::Idle, 9, "recent"),
            candidate(Rank::Idle, 3, "old"),
            candidate(Rank::Idle, 5, "older than recent"),
        ];
        let mut chosen = choose(held.into_iter(), 2, Rank::Idle);
        chosen.sort_unstable();
        assert_eq!(chosen, ["old", "older than recent"]);
        assert_eq!(choose(held.into_iter(), 1, Rank::Tripped), ["old"]);
    }

    #[test]
    fn without_idle_keys_one_busy_then_one_tripped_goes() {
        let held = [
            candidate(Rank::Tripped, 0, "open"),
            candidate(Rank::Busy, 7, "busy recent"),
            candidate(Rank::Busy, 4, "busy"),
        ];
        assert!(choose(held.into_iter(), 8, Rank::Idle).is_empty());
        assert_eq!(choose(held.into_iter(), 8, Rank::Busy), ["busy"]);
        let tripped = [
            candidate(Rank::Tripped, 6, "open recent"),
            candidate(Rank::Tripped, 2, "open"),
        ];
        assert!(choose(tripped.into_iter(), 8, Rank::Busy).is_empty());
        assert_eq!(choose(tripped.into_iter(), 8, Rank::Tripped), ["open"]);
        let none = std::iter::empty::<Candidate<&str>>();
        assert!(choose(none, 8, Rank::Tripped).is_empty());
    }
}

//! The bulkhead's state machine: counters of permits in use, with no
//! services, futures or clocks in sight.
//!
//! Capacity is split into one reserve per partition (its guaranteed share)
//! and a shared pool holding the rest. A request of a partition takes from
//! the partition's reserve first and borrows from the pool when the reserve
//! is used up; a request of no partition uses the pool alone. Because a
//! reserve only ever serves its own partition, a partition always gets its
//! guaranteed share however busy the others are, and the total can never pass
//! capacity: the reserves and the pool add up to it.
//!
//! Each counter is raised with a compare-exchange that refuses to pass its
//! limit, so a counter never overshoots, not even for an instant.
//!
//! The counters' atomics come from `crate::sync`, so that the loom models in
//! `tests/loom.rs` can explore every interleaving of acquisitions and
//! releases racing for the last permits, through the public service.

use std::fmt;
use std::num::NonZeroU64;
use std::sync::Arc;

use crate::sync::{AtomicUsize, Ordering};

/// The permit counters of one bulkhead.
pub(crate) struct Limiter {
    capacity: usize,
    pool: Slots,
    /// Sorted by name, so a key is found by binary search.
    partitions: Box<[Partition]>,
}

/// Where a permit came from, so that it goes back to the same place.
///
/// Packed into one word rather than kept as an enum of a tag and a `u32`
/// index: a [`Permit`](crate::shared::Permit) is then the `Arc` and this
/// word, which the compiler copies whole, and `Option<Permit>` uses the
/// `Arc`'s null niche instead of a tag of its own. The permit's docs give
/// the figures. A `u64` rather than a `usize` so that every `u32` index
/// fits on every target.
///
/// 1 is the pool; partition `i` is `(i + 1) * 2`, plus 1 when borrowed.
/// Never 0, so that `Option<Permit>` can use that value for `None` (the
/// permit's reference to the bulkhead has no niche to spare; see
/// `lease.rs`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grant(NonZeroU64);

/// A [`Grant`], unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// From the shared pool, for a request of no partition.
    Pool,
    /// From partition `.0`'s guaranteed reserve.
    Reserved(u32),
    /// Borrowed from the shared pool by partition `.0`.
    Borrowed(u32),
}

/// The most partitions a bulkhead may have, so that an index fits a
/// [`Source`].
pub(crate) const MAX_PARTITIONS: usize = u32::MAX as usize;

/// The shape of one partition, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartitionSpec {
    pub(crate) name: Arc<str>,
    pub(crate) guaranteed: usize,
    pub(crate) max_in_flight: usize,
}

/// A partition's counters.
struct Partition {
    spec: PartitionSpec,
    /// Everything the partition holds, reserved or borrowed; bounded by its
    /// own ceiling.
    in_flight: Slots,
    /// What it holds from its reserve; bounded by `guaranteed`.
    reserved: Slots,
}

/// A counter with a fixed limit.
struct Slots {
    used: AtomicUsize,
    limit: usize,
}

impl Limiter {
    /// A limiter of `capacity` permits split into `partitions`.
    ///
    /// The builder has already checked that the guaranteed shares fit into
    /// `capacity` and that names are unique.
    pub(crate) fn new(capacity: usize, mut partitions: Vec<PartitionSpec>) -> Self {
        assert!(partitions.len() <= MAX_PARTITIONS, "too many partitions");
        partitions.sort_by(|a, b| a.name.cmp(&b.name));
        let reserved: usize = partitions.iter().map(|p| p.guaranteed).sum();
        debug_assert!(reserved <= capacity, "reserves exceed capacity");
        let partitions = partitions
            .into_iter()
            .map(|spec| Partition {
                in_flight: Slots::new(spec.max_in_flight),
                reserved: Slots::new(spec.guaranteed),
                spec,
            })
            .collect();
        Limiter {
            capacity,
            pool: Slots::new(capacity - reserved),
            partitions,
        }
    }

    /// The total number of permits.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether any partitions are configured.
    pub(crate) fn is_partitioned(&self) -> bool {
        !self.partitions.is_empty()
    }

    /// The index of the partition named `key`, if there is one.
    #[inline]
    pub(crate) fn find(&self, key: &str) -> Option<u32> {
        let index = self
            .partitions
            .binary_search_by(|p| (*p.spec.name).cmp(key))
            .ok()?;
        // `new` was given at most `MAX_PARTITIONS`, so this never truncates.
        Some(index as u32)
    }

    /// Takes a permit for a request of `partition` (an index from
    /// [`find`](Self::find)), or for the pool alone when `None`.
    ///
    /// Returns `None` when no permit is free for it.
    #[inline]
    pub(crate) fn try_acquire(&self, partition: Option<u32>) -> Option<Grant> {
        let Some(index) = partition else {
            return self.pool.try_take().then_some(Grant::POOL);
        };

        // The ceiling is claimed first, so that the partition's total is
        // bounded even while the reserve and the pool are being tried.
        let part = &self.partitions[index as usize];
        if !part.in_flight.try_take() {
            return None;
        }
        if part.reserved.try_take() {
            return Some(Grant::reserved(index));
        }
        if self.pool.try_take() {
            return Some(Grant::borrowed(index));
        }
        part.in_flight.give_back();
        None
    }

    /// Returns a permit taken by [`try_acquire`](Self::try_acquire).
    #[inline]
    pub(crate) fn release(&self, grant: Grant) {
        match grant.source() {
            Source::Pool => self.pool.give_back(),
            Source::Reserved(index) => {
                let part = &self.partitions[index as usize];
                part.reserved.give_back();
                part.in_flight.give_back();
            }
            Source::Borrowed(index) => {
                self.pool.give_back();
                self.partitions[index as usize].in_flight.give_back();
            }
        }
    }

    /// Permits in use now, over all partitions and the pool.
    pub(crate) fn in_flight(&self) -> usize {
        let reserved: usize = self.partitions.iter().map(|p| p.reserved.used()).sum();
        self.pool.used() + reserved
    }

    /// Permits of the pool in use now, by any request.
    pub(crate) fn pool_in_use(&self) -> usize {
        self.pool.used()
    }

    /// The size of the pool: capacity less every guaranteed share.
    pub(crate) fn pool_size(&self) -> usize {
        self.pool.limit
    }

    /// The partitions' shapes, sorted by name, with what each holds now.
    pub(crate) fn partitions(&self) -> impl Iterator<Item = (&PartitionSpec, usize)> {
        self.partitions
            .iter()
            .map(|p| (&p.spec, p.in_flight.used()))
    }

    /// Permits partition `index` holds now, reserved and borrowed.
    pub(crate) fn partition_in_flight(&self, index: u32) -> usize {
        self.partitions[index as usize].in_flight.used()
    }

    /// The configured partition at `index`.
    pub(crate) fn partition(&self, index: u32) -> &PartitionSpec {
        &self.partitions[index as usize].spec
    }
}

impl Grant {
    const POOL: Grant = Grant(NonZeroU64::MIN);

    fn reserved(index: u32) -> Grant {
        // (index + 1) * 2: at least 2, and no `u32` index overflows it.
        let two = NonZeroU64::MIN.saturating_add(1);
        Grant(
            NonZeroU64::MIN
                .saturating_add(u64::from(index))
                .saturating_mul(two),
        )
    }

    fn borrowed(index: u32) -> Grant {
        Grant(Grant::reserved(index).0 | 1)
    }

    /// Where the permit came from.
    #[inline]
    pub(crate) fn source(self) -> Source {
        let raw = self.0.get();
        if raw == 1 {
            return Source::Pool;
        }
        // Only `reserved` and `borrowed` make a grant other than 1, from a
        // `u32` index, so this never truncates.
        let index = ((raw >> 1) - 1) as u32;
        if raw & 1 == 0 {
            Source::Reserved(index)
        } else {
            Source::Borrowed(index)
        }
    }
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.source(), f)
    }
}

impl Slots {
    fn new(limit: usize) -> Self {
        Slots {
            used: AtomicUsize::new(0),
            limit,
        }
    }

    /// Takes one slot unless all are used.
    #[inline]
    fn try_take(&self) -> bool {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            if used >= self.limit {
                return false;
            }
            // Acquire pairs with the Release in `give_back`, so whatever the
            // last holder did happens before the next holder starts.
            match self.used.compare_exchange_weak(
                used,
                used + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => used = actual,
            }
        }
    }

    #[inline]
    fn give_back(&self) {
        let before = self.used.fetch_sub(1, Ordering::Release);
        debug_assert!(before > 0, "a slot was given back twice");
    }

    fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, guaranteed: usize, max_in_flight: usize) -> PartitionSpec {
        PartitionSpec {
            name: name.into(),
            guaranteed,
            max_in_flight,
        }
    }

    #[test]
    fn an_unpartitioned_limiter_counts_up_to_capacity() {
        let limiter = Limiter::new(2, Vec::new());
        let a = limiter.try_acquire(None).expect("first permit");
        let b = limiter.try_acquire(None).expect("second permit");
        assert_eq!(limiter.try_acquire(None), None);
        assert_eq!(limiter.in_flight(), 2);

        limiter.release(a);
        assert_eq!(
            limiter.try_acquire(None).map(Grant::source),
            Some(Source::Pool)
        );
        limiter.release(b);
        limiter.release(Grant::POOL);
        assert_eq!(limiter.in_flight(), 0);
    }

    #[test]
    fn a_partition_takes_its_reserve_then_borrows() {
        // Capacity 4: tenant-a reserves 1, tenant-b reserves 1, pool of 2.
        let limiter = Limiter::new(4, vec![spec("b", 1, 4), spec("a", 1, 4)]);
        let a = limiter.find("a");
        let b = limiter.find("b");
        assert_eq!(limiter.pool_size(), 2);

        assert!(matches!(
            limiter.try_acquire(a).map(Grant::source),
            Some(Source::Reserved(_))
        ));
        assert!(matches!(
            limiter.try_acquire(a).map(Grant::source),
            Some(Source::Borrowed(_))
        ));
        assert!(matches!(
            limiter.try_acquire(a).map(Grant::source),
            Some(Source::Borrowed(_))
        ));
        assert_eq!(
            limiter.try_acquire(a),
            None,
            "a has its reserve and the pool"
        );
        assert_eq!(limiter.try_acquire(None), None, "the pool is lent out");

        // b's reserve was never lent out.
        assert!(matches!(
            limiter.try_acquire(b).map(Grant::source),
            Some(Source::Reserved(_))
        ));
        assert_eq!(limiter.in_flight(), 4);
        assert_eq!(limiter.partition_in_flight(a.unwrap()), 3);
    }

    #[test]
    fn a_ceiling_bounds_borrowing() {
        let limiter = Limiter::new(10, vec![spec("a", 1, 2)]);
        let a = limiter.find("a");
        assert!(limiter.try_acquire(a).is_some());
        assert!(limiter.try_acquire(a).is_some());
        assert_eq!(limiter.try_acquire(a), None);
        // A refusal at the ceiling leaves nothing claimed behind.
        assert_eq!(limiter.partition_in_flight(a.unwrap()), 2);
        assert_eq!(limiter.in_flight(), 2);
    }

    #[test]
    fn a_failed_borrow_gives_the_ceiling_back() {
        let limiter = Limiter::new(1, vec![spec("a", 0, 1), spec("b", 1, 1)]);
        let a = limiter.find("a");
        assert_eq!(limiter.pool_size(), 0);
        assert_eq!(limiter.try_acquire(a), None);
        assert_eq!(limiter.partition_in_flight(a.unwrap()), 0);
    }

    #[test]
    fn grants_go_back_where_they_came_from() {
        let limiter = Limiter::new(3, vec![spec("a", 1, 3)]);
        let a = limiter.find("a");
        let reserved = limiter.try_acquire(a).unwrap();
        let borrowed = limiter.try_acquire(a).unwrap();
        let pooled = limiter.try_acquire(None).unwrap();
        assert_eq!(limiter.pool_in_use(), 2);

        limiter.release(borrowed);
        assert_eq!(limiter.pool_in_use(), 1);
        limiter.release(reserved);
        limiter.release(pooled);
        assert_eq!(limiter.in_flight(), 0);
        assert_eq!(limiter.partition_in_flight(a.unwrap()), 0);
    }

    #[test]
    fn unknown_keys_are_not_partitions() {
        let limiter = Limiter::new(3, vec![spec("a", 1, 3), spec("c", 1, 3)]);
        assert_eq!(limiter.find("b"), None);
        assert_eq!(limiter.find(""), None);
        assert_eq!(limiter.partition(limiter.find("c").unwrap()).guaranteed, 1);
        let names: Vec<_> = limiter.partitions().map(|(p, _)| &*p.name).collect();
        assert_eq!(names, ["a", "c"]);
    }

    #[test]
    fn racing_threads_never_pass_capacity() {
        let limiter = Arc::new(Limiter::new(3, vec![spec("a", 1, 3)]));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let limiter = limiter.clone();
                std::thread::spawn(move || {
                    let partition = (t % 2 == 0).then(|| limiter.find("a").unwrap());
                    for _ in 0..10_000 {
                        if let Some(grant) = limiter.try_acquire(partition) {
                            assert!(limiter.in_flight() <= 3);
                            limiter.release(grant);
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("no thread panicked");
        }
        assert_eq!(limiter.in_flight(), 0);
    }
}

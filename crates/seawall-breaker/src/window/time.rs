//! The time window: the calls that ended in the last T, in B buckets.
//!
//! Time is cut into ticks of T / B, counted from the breaker's start; tick
//! `t` lives in bucket `t % B`. `head` is the latest tick any call has
//! ended in. The call that moves `head` forward (one `compare_exchange`, at
//! most once per tick) empties the buckets of the ticks it skipped over,
//! which is what keeps recording O(1) amortised: every other call adds to
//! its bucket and to the running totals, two `fetch_add`s for a success.
//!
//! The three counts are separate 64-bit words, since a busy upstream can fill
//! a bucket with more calls than a packed field holds; a snapshot is
//! therefore read field by field. Races make the window approximate at its
//! edges, never drifting: a call that lands in a bucket just as it is
//! emptied is lost with it; a call that ends in a tick already gone counts
//! in the newest bucket; and a call that ends while another is still
//! emptying the bucket leaving the window may see that bucket's counts one
//! last time. Whatever happens, the totals equal the buckets' sum once the
//! racing calls are done.

use std::time::Duration;

use super::{Counts, CALL, FAILURE, SLOW};
use crate::sync::{AtomicU64, Ordering::Relaxed, Padded};

#[derive(Debug)]
pub(crate) struct TimeWindow {
    head: Padded<AtomicU64>,
    totals: Padded<Fields>,
    buckets: Box<[Fields]>,
    tick_nanos: u64,
}

/// Calls, failures and slow calls.
#[derive(Debug, Default)]
struct Fields([AtomicU64; 3]);

const CALLS: usize = 0;
const FAILURES: usize = 1;
const SLOW_CALLS: usize = 2;

impl TimeWindow {
    pub(crate) fn new(length: Duration, buckets: u32) -> Self {
        let tick_nanos = (length.as_nanos() / u128::from(buckets)).max(1);
        TimeWindow {
            head: Padded(AtomicU64::new(0)),
            totals: Padded(Fields::default()),
            buckets: (0..buckets).map(|_| Fields::default()).collect(),
            tick_nanos: u64::try_from(tick_nanos).unwrap_or(u64::MAX),
        }
    }

    pub(crate) fn record(&self, code: u8, now: u64) -> Counts {
        let tick = now / self.tick_nanos;

        // First, move the window forward if this call is the first of its
        // tick.
        let mut head = self.head.load(Relaxed);
        while tick > head {
            match self.head.compare_exchange(head, tick, Relaxed, Relaxed) {
                Ok(_) => {
                    self.expire(head, tick);
                    head = tick;
                }
                Err(current) => head = current,
            }
        }
        let tick = if tick + self.len() <= head {
            head
        } else {
            tick
        };
        let bucket = &self.buckets[(tick % self.len()) as usize];

        // Then count the call; the totals this call produced are the ones
        // the trip decision sees.
        let add = |field: usize| {
            bucket.0[field].fetch_add(1, Relaxed);
            let before = self.totals.0 .0[field].fetch_add(1, Relaxed);
            before.wrapping_add(1)
        };
        let read = |field: usize| self.totals.0 .0[field].load(Relaxed);
        let calls = add(CALLS);
        let failures = if code & FAILURE != 0 {
            add(FAILURES)
        } else {
            read(FAILURES)
        };
        let slow = if code & SLOW != 0 {
            add(SLOW_CALLS)
        } else {
            read(SLOW_CALLS)
        };
        debug_assert!(code & CALL != 0);
        Counts {
            calls: clamp(calls),
            failures: clamp(failures),
            slow: clamp(slow),
        }
    }

    /// The counts of the ticks still inside the window at `now`: the
    /// totals, unless time has moved past the last recorded tick.
    pub(crate) fn counts(&self, now: u64) -> Counts {
        let tick = now / self.tick_nanos;
        let head = self.head.load(Relaxed);
        if tick <= head {
            let read = |field: usize| clamp(self.totals.0 .0[field].load(Relaxed));
            return Counts {
                calls: read(CALLS),
                failures: read(FAILURES),
                slow: read(SLOW_CALLS),
            };
        }
        let len = self.len();
        let oldest_live = tick.max(head).saturating_sub(len - 1);
        let mut sums = [0u64; 3];
        for live in oldest_live..=head {
            let bucket = &self.buckets[(live % len) as usize];
            for (sum, field) in sums.iter_mut().zip(&bucket.0) {
                *sum = sum.wrapping_add(field.load(Relaxed));
            }
        }
        Counts {
            calls: clamp(sums[CALLS]),
            failures: clamp(sums[FAILURES]),
            slow: clamp(sums[SLOW_CALLS]),
        }
    }

    pub(crate) fn clear(&self) {
        for bucket in self.buckets.iter() {
            self.empty(bucket);
        }
    }

    fn len(&self) -> u64 {
        self.buckets.len() as u64
    }

    /// Empties the buckets of the ticks after `from` up to `to`.
    fn expire(&self, from: u64, to: u64) {
        let first = from
            .saturating_add(1)
            .max(to.saturating_sub(self.len() - 1));
        for tick in first..=to {
            self.empty(&self.buckets[(tick % self.len()) as usize]);
        }
    }

    fn empty(&self, bucket: &Fields) {
        for (field, total) in bucket.0.iter().zip(&self.totals.0 .0) {
            let taken = field.swap(0, Relaxed);
            if taken != 0 {
                total.fetch_sub(taken, Relaxed);
            }
        }
    }
}

/// A total briefly below zero (a bucket emptied between a call's two adds)
/// reads as zero.
fn clamp(value: u64) -> u64 {
    (value as i64).max(0) as u64
}

#[cfg(all(test, not(seawall_loom)))]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn buckets_age_out_whole() {
        // 4 buckets of 10 ms.
        let window = TimeWindow::new(Duration::from_millis(40), 4);
        window.record(CALL | FAILURE, 0);
        window.record(CALL, 15 * MS);
        let counts = window.record(CALL | SLOW, 39 * MS);
        assert_eq!((counts.calls, counts.failures, counts.slow), (3, 1, 1));
        // At 40 ms the first bucket (0..10 ms) has left.
        assert_eq!(window.counts(40 * MS).failures, 0);
        assert_eq!(window.counts(40 * MS).calls, 2);
        let counts = window.record(CALL, 41 * MS);
        assert_eq!((counts.calls, counts.failures, counts.slow), (3, 0, 1));
        // Long idle: everything has left.
        assert_eq!(window.counts(500 * MS), Counts::default());
        let counts = window.record(CALL, 500 * MS);
        assert_eq!((counts.calls, counts.failures, counts.slow), (1, 0, 0));
        window.clear();
        assert_eq!(window.counts(500 * MS), Counts::default());
    }
}

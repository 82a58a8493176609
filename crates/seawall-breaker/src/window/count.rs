//! The count window: the last N calls.
//!
//! A ring of N outcome bytes and one word of running totals. A call takes
//! the next slot with one `fetch_add` on the cursor, swaps its outcome into
//! the slot, and adds to the totals the difference between its outcome and
//! the one it pushed out. A success that would replace a success changes
//! nothing: when the totals say the ring is full of plain successes, the
//! call does not even take a slot, so the steady state of a healthy upstream
//! costs one load and no write. (A success that races a failure into such a
//! ring may be skipped; the failure then stays in the window for one more
//! call, which is the only effect.)
//!
//! The totals pack three signed 21-bit fields (calls, failures, slow) into
//! one `AtomicU64`, so one `fetch_add` updates all three and returns a
//! consistent snapshot. Fields are signed because two racing calls on one
//! slot (possible only when more calls are in flight than the ring is long)
//! can apply their differences out of order and briefly push a field below
//! zero; the decoding below carries borrows between fields exactly, and the
//! reader treats a negative count as zero.

use super::{Counts, CALL, FAILURE, SLOW};
use crate::sync::{AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed, Padded};

const FIELD_BITS: u32 = 21;
const FIELD_MASK: i64 = (1 << FIELD_BITS) - 1;
const FIELD_SIGN: i64 = 1 << (FIELD_BITS - 1);

#[derive(Debug)]
pub(crate) struct CountWindow {
    hot: Padded<Hot>,
    slots: Box<[AtomicU8]>,
    size: u32,
    /// The constant of Lemire's fast remainder for `size`.
    modulus_magic: u64,
}

/// The words every call touches, on one cache line.
#[derive(Debug)]
struct Hot {
    cursor: AtomicU32,
    totals: AtomicU64,
    /// The totals of a ring holding only successes that were not slow;
    /// never written, and beside `totals` so that the healthy path, which
    /// compares the two, reads one line (it matters with many breakers,
    /// whose lines are rarely all in cache).
    full_of_successes: u64,
}

impl CountWindow {
    pub(crate) fn new(size: u32) -> Self {
        assert!(size > 0 && i64::from(size) < FIELD_SIGN, "validated size");
        CountWindow {
            hot: Padded(Hot {
                cursor: AtomicU32::new(0),
                totals: AtomicU64::new(0),
                full_of_successes: weight(CALL) * u64::from(size),
            }),
            slots: (0..size).map(|_| AtomicU8::new(0)).collect(),
            size,
            modulus_magic: (u64::MAX / u64::from(size)).wrapping_add(1),
        }
    }

    /// Whether the ring holds only plain successes. Another success would
    /// leave it the same whichever slot it replaced, so it can skip the
    /// cursor: a healthy upstream costs one load here and no write at all.
    #[inline]
    pub(crate) fn full_of_successes(&self) -> bool {
        self.hot.totals.load(Relaxed) == self.hot.full_of_successes
    }

    #[inline]
    pub(crate) fn record(&self, code: u8) -> Option<Counts> {
        if code == CALL && self.full_of_successes() {
            return None;
        }

        // The cursor wraps at 2^32; where the ring's length does not divide
        // that, one lap starts early, which only reorders overwrites.
        let ticket = self.hot.cursor.fetch_add(1, Relaxed);
        let slot = &self.slots[self.index(ticket)];

        if slot.load(Relaxed) == code {
            return None;
        }
        let old = slot.swap(code, Relaxed);
        if old == code {
            return None;
        }

        let delta = weight(code).wrapping_sub(weight(old));
        let before = self.hot.totals.fetch_add(delta, Relaxed);
        Some(decode(before.wrapping_add(delta)))
    }

    pub(crate) fn counts(&self) -> Counts {
        decode(self.hot.totals.load(Relaxed))
    }

    pub(crate) fn clear(&self) {
        // Take out exactly what each slot held, so that a call racing with
        // the clear leaves the totals equal to the slots' contents.
        let mut taken = 0u64;
        for slot in self.slots.iter() {
            let old = slot.swap(0, Relaxed);
            taken = taken.wrapping_add(weight(old));
        }
        self.hot.totals.fetch_sub(taken, Relaxed);
    }

    /// `ticket % size`, without a division on the hot path.
    #[inline]
    fn index(&self, ticket: u32) -> usize {
        let low = self.modulus_magic.wrapping_mul(u64::from(ticket));
        ((u128::from(low) * u128::from(self.size)) >> 64) as usize
    }
}

/// A call's contribution to the packed totals.
fn weight(code: u8) -> u64 {
    let field = |bit: u8, shift: u32| u64::from(code & bit != 0) << shift;
    field(CALL, 0) | field(FAILURE, FIELD_BITS) | field(SLOW, 2 * FIELD_BITS)
}

/// Unpacks the totals, reading each field as signed and carrying its borrow
/// into the next one.
fn decode(packed: u64) -> Counts {
    let mut rest = packed as i64;
    let mut field = || {
        let low = rest & FIELD_MASK;
        let value = if low & FIELD_SIGN != 0 {
            low - (1 << FIELD_BITS)
        } else {
            low
        };
        rest = (rest - value) >> FIELD_BITS;
        value.max(0) as u64
    };
    let calls = field();
    let failures = field();
    let slow = field();
    Counts {
        calls,
        failures,
        slow,
    }
}

#[cfg(all(test, not(seawall_loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_fast_remainder_is_the_remainder() {
        for size in [1u32, 2, 3, 7, 100, 1000, 999_999, 1_000_000] {
            let window = CountWindow::new(size);
            for ticket in [0u32, 1, 2, size - 1, size, size + 1, 12_345, u32::MAX] {
                assert_eq!(window.index(ticket), (ticket % size) as usize);
            }
        }
    }

    #[test]
    fn a_negative_field_borrows_from_the_next_exactly() {
        // Two failures and three calls, then a failure taken out before it
        // was added: the failure field is -1 for a moment.
        let mut packed = 0u64;
        for code in [CALL | FAILURE, CALL | FAILURE, CALL] {
            packed = packed.wrapping_add(weight(code));
        }
        packed = packed.wrapping_sub(weight(FAILURE) * 3);
        let counts = decode(packed);
        assert_eq!((counts.calls, counts.failures, counts.slow), (3, 0, 0));
        packed = packed.wrapping_add(weight(FAILURE | SLOW) * 2);
        let counts = decode(packed);
        assert_eq!((counts.calls, counts.failures, counts.slow), (3, 1, 2));
    }

    #[test]
    fn the_ring_keeps_the_last_n_calls() {
        let window = CountWindow::new(3);
        assert!(window.record(CALL | FAILURE).is_some());
        assert!(window.record(CALL).is_some());
        assert!(window.record(CALL | SLOW).is_some());
        assert_eq!(window.counts().failures, 1);
        // The failure leaves the window.
        let counts = window.record(CALL).unwrap();
        assert_eq!((counts.calls, counts.failures, counts.slow), (3, 0, 1));
        // A success replacing a success changes nothing.
        assert_eq!(window.record(CALL), None);
        window.clear();
        assert_eq!(window.counts(), Counts::default());
    }
}

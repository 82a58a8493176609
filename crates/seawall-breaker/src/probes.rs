//! Half-open probe slots.
//!
//! A half-open period lets `limit` probes through. A slot is taken when a
//! probe is admitted and kept once the probe's result is recorded, so the
//! period sees at most `limit` results; a probe that is cancelled, or whose
//! result is ignored, gives its slot back for another probe. The verdict
//! comes as soon as it is certain: `required` successes close the breaker,
//! and more than `limit - required` failures open it again.
//!
//! Everything sits in one `AtomicU64`, updated by compare-and-swap:
//!
//! ```text
//!   bits 32..64  the half-open period's generation (low 32 bits)
//!   bits 20..30  slots taken: probes in flight plus results recorded
//!   bits 10..20  successes
//!   bits  0..10  failures
//! ```
//!
//! The generation makes a slot from an earlier period worthless: giving it
//! back or recording through it changes nothing. It is cut to 32 bits, so a
//! probe would have to stay in flight through four billion transitions to be
//! mistaken for a current one.

use crate::sync::{AtomicU64, Ordering::Relaxed};

const COUNT_BITS: u32 = 10;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
const TAKEN_SHIFT: u32 = 2 * COUNT_BITS;
const SUCCESS_SHIFT: u32 = COUNT_BITS;
const GENERATION_SHIFT: u32 = 32;

#[derive(Debug)]
pub(crate) struct Probes {
    word: AtomicU64,
    limit: u64,
    required: u64,
}

/// What an attempt to take a slot found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Take {
    Taken,
    /// Every slot is in use or spent.
    Full,
    /// The half-open period is over.
    Stale,
}

/// The outcome of a half-open period, reported to exactly one caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Close,
    Reopen,
}

/// What the slots hold, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ProbeCounts {
    pub(crate) in_flight: u32,
    pub(crate) successes: u32,
    pub(crate) failures: u32,
}

impl Probes {
    /// `limit` slots, of which `ratio` (in (0, 1]) must succeed.
    pub(crate) fn new(limit: u32, ratio: f64) -> Self {
        let required = (ratio * f64::from(limit)).ceil() as u64;
        Probes {
            word: AtomicU64::new(0),
            limit: u64::from(limit),
            required: required.clamp(1, u64::from(limit)),
        }
    }

    /// How many successes close the breaker.
    #[cfg(all(test, not(seawall_loom)))]
    pub(crate) fn required(&self) -> u32 {
        self.required as u32
    }

    /// Starts the half-open period `generation` with every slot free.
    ///
    /// Called under the transition lock, before the new state is published.
    pub(crate) fn start(&self, generation: u64) {
        self.word.store(stamp(generation), Relaxed);
    }

    pub(crate) fn try_take(&self, generation: u64) -> Take {
        let mut current = self.word.load(Relaxed);
        loop {
            if current & !low_mask() != stamp(generation) {
                return Take::Stale;
            }
            if field(current, TAKEN_SHIFT) >= self.limit {
                return Take::Full;
            }
            let taken = current + (1 << TAKEN_SHIFT);
            match self
                .word
                .compare_exchange_weak(current, taken, Relaxed, Relaxed)
            {
                Ok(_) => return Take::Taken,
                Err(actual) => current = actual,
            }
        }
    }

    /// Gives back the slot of a probe that was cancelled or whose result is
    /// ignored.
    pub(crate) fn give_back(&self, generation: u64) {
        self.update(generation, |word| word - (1 << TAKEN_SHIFT));
    }

    /// Records a probe's result; returns the verdict to the one caller whose
    /// result settled it.
    pub(crate) fn record(&self, generation: u64, success: bool) -> Option<Verdict> {
        let shift = if success { SUCCESS_SHIFT } else { 0 };
        let after = self.update(generation, |word| word + (1 << shift))?;
        if success && field(after, SUCCESS_SHIFT) == self.required {
            return Some(Verdict::Close);
        }
        if !success && field(after, 0) == self.limit - self.required + 1 {
            return Some(Verdict::Reopen);
        }
        None
    }

    /// The slots of the period `generation`; zero for any other period.
    pub(crate) fn counts(&self, generation: u64) -> ProbeCounts {
        let word = self.word.load(Relaxed);
        if word & !low_mask() != stamp(generation) {
            return ProbeCounts::default();
        }
        let successes = field(word, SUCCESS_SHIFT);
        let failures = field(word, 0);
        let taken = field(word, TAKEN_SHIFT);
        ProbeCounts {
            in_flight: (taken - successes - failures) as u32,
            successes: successes as u32,
            failures: failures as u32,
        }
    }

    /// Applies `change` if the word still belongs to `generation`; returns
    /// the new word.
    fn update(&self, generation: u64, change: impl Fn(u64) -> u64) -> Option<u64> {
        let mut current = self.word.load(Relaxed);
        loop {
            if current & !low_mask() != stamp(generation) {
                return None;
            }
            let next = change(current);
            match self
                .word
                .compare_exchange_weak(current, next, Relaxed, Relaxed)
            {
                Ok(_) => return Some(next),
                Err(actual) => current = actual,
            }
        }
    }
}

fn stamp(generation: u64) -> u64 {
    (generation & u64::from(u32::MAX)) << GENERATION_SHIFT
}

fn low_mask() -> u64 {
    (1 << GENERATION_SHIFT) - 1
}

fn field(word: u64, shift: u32) -> u64 {
    (word >> shift) & COUNT_MASK
}

#[cfg(all(test, not(seawall_loom)))]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_and_given_back() {
        let probes = Probes::new(2, 1.0);
        probes.start(7);
        assert_eq!(probes.try_take(7), Take::Taken);
        assert_eq!(probes.try_take(7), Take::Taken);
        assert_eq!(probes.try_take(7), Take::Full);
        probes.give_back(7);
        assert_eq!(probes.counts(7).in_flight, 1);
        assert_eq!(probes.try_take(7), Take::Taken);
        assert_eq!(probes.try_take(6), Take::Stale);
        // A slot of another period changes nothing.
        probes.give_back(6);
        assert_eq!(probes.counts(7).in_flight, 2);
    }

    #[test]
    fn the_verdict_comes_once_it_is_certain() {
        // 3 of 5 must succeed: 3 failures settle it.
        let probes = Probes::new(5, 0.6);
        assert_eq!(probes.required(), 3);
        probes.start(1);
        for _ in 0..5 {
            assert_eq!(probes.try_take(1), Take::Taken);
        }
        assert_eq!(probes.record(1, false), None);
        assert_eq!(probes.record(1, true), None);
        assert_eq!(probes.record(1, false), None);
        assert_eq!(probes.record(1, false), Some(Verdict::Reopen));
        assert_eq!(probes.record(1, true), None);

        probes.start(2);
        for _ in 0..3 {
            probes.try_take(2);
        }
        assert_eq!(probes.record(2, true), None);
        assert_eq!(probes.record(2, true), None);
        assert_eq!(probes.record(2, true), Some(Verdict::Close));
    }
}

//! The breaker's states and the word that holds the current one.
//!
//! The state lives in one `AtomicU64`: the state's tag in the low three bits
//! and, above them, a generation that every transition increments. A call
//! remembers the word it was admitted under; its outcome counts only while
//! the word is unchanged, so a call admitted before a trip cannot count
//! against the next closed period, and a probe of one half-open period
//! cannot decide the next one.

use std::fmt;

/// The state of a circuit breaker.
///
/// Closed, open and half-open are the automatic states, described with a
/// diagram in the [crate docs](crate#states); the other three are set and
/// left only by an operator, through a
/// [`BreakerHandle`](crate::BreakerHandle). The numbers are the values of
/// the `seawall_breaker_state` gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BreakerState {
    /// Calls go through and are counted (gauge 0).
    Closed,
    /// A few probe calls go through; their results decide (gauge 1).
    HalfOpen,
    /// Calls are refused until the open period ends (gauge 2).
    Open,
    /// An operator holds the breaker open (gauge 3).
    ForcedOpen,
    /// An operator turned the breaker off: calls go through and nothing is
    /// recorded (gauge 4).
    Disabled,
    /// Shadow mode: calls go through and are counted, and the breaker says
    /// where it would have opened, but never refuses (gauge 5).
    MetricsOnly,
}

impl BreakerState {
    /// A short, stable name for logs, metrics and health reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::HalfOpen => "half_open",
            BreakerState::Open => "open",
            BreakerState::ForcedOpen => "forced_open",
            BreakerState::Disabled => "disabled",
            BreakerState::MetricsOnly => "metrics_only",
        }
    }

    /// The value of the `seawall_breaker_state` gauge for this state.
    pub fn gauge_value(&self) -> f64 {
        f64::from(self.tag())
    }

    /// Returns `true` in the states that refuse calls: open and forced open.
    pub fn is_open(&self) -> bool {
        matches!(self, BreakerState::Open | BreakerState::ForcedOpen)
    }

    pub(crate) fn tag(&self) -> u8 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
            BreakerState::ForcedOpen => 3,
            BreakerState::Disabled => 4,
            BreakerState::MetricsOnly => 5,
        }
    }

    fn from_tag(tag: u8) -> Self {
        match tag {
            0 => BreakerState::Closed,
            1 => BreakerState::HalfOpen,
            2 => BreakerState::Open,
            3 => BreakerState::ForcedOpen,
            4 => BreakerState::Disabled,
            _ => BreakerState::MetricsOnly,
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const TAG_BITS: u32 = 3;

/// A state and its generation, packed as in the state word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    pub(crate) const INITIAL: Word = Word(0);

    pub(crate) fn state(self) -> BreakerState {
        BreakerState::from_tag((self.0 & ((1 << TAG_BITS) - 1)) as u8)
    }

    pub(crate) fn generation(self) -> u64 {
        self.0 >> TAG_BITS
    }

    /// The word of the next transition, to `state`.
    pub(crate) fn next(self, state: BreakerState) -> Word {
        let generation = self.generation().wrapping_add(1);
        Word((generation << TAG_BITS) | u64::from(state.tag()))
    }
}

#[cfg(all(test, not(seawall_loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_word_keeps_its_state_and_counts_generations() {
        let all = [
            BreakerState::Closed,
            BreakerState::HalfOpen,
            BreakerState::Open,
            BreakerState::ForcedOpen,
            BreakerState::Disabled,
            BreakerState::MetricsOnly,
        ];
        let mut word = Word::INITIAL;
        assert_eq!(word.state(), BreakerState::Closed);
        for (i, state) in all.into_iter().enumerate() {
            word = word.next(state);
            assert_eq!(word.state(), state);
            assert_eq!(word.generation(), i as u64 + 1);
            assert_eq!(state.gauge_value(), i as f64);
        }
    }
}

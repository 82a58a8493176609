use std::error::Error;
use std::fmt;
use std::time::Duration;

use super::{Pattern, Rejection};

/// A timeout ran out before the inner service answered.
///
/// It carries the limit that fired: the layer's own limit, or what was left of
/// the request's [`Deadline`](crate::Deadline) when that was smaller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elapsed {
    limit: Duration,
    phase: Phase,
    by_deadline: bool,
}

/// Which wait a timeout cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// Waiting for the inner service to become ready.
    Ready,
    /// Waiting for the response.
    Response,
}

impl Elapsed {
    /// A timeout of `limit` that ran out while waiting in `phase`.
    pub fn new(limit: Duration, phase: Phase) -> Self {
        Elapsed {
            limit,
            phase,
            by_deadline: false,
        }
    }

    /// Marks the limit as taken from the request's overall deadline rather
    /// than from the layer's own setting.
    pub fn by_deadline(mut self) -> Self {
        self.by_deadline = true;
        self
    }

    /// The limit that fired.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Which wait ran out.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Returns `true` when the limit was what remained of the request's
    /// deadline.
    pub fn is_deadline(&self) -> bool {
        self.by_deadline
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.phase {
            Phase::Ready => "waiting for readiness",
            Phase::Response => "request",
        };
        let cause = if self.by_deadline { " (deadline)" } else { "" };
        write!(f, "{what} timed out after {:?}{cause}", self.limit)
    }
}

impl Error for Elapsed {}

impl Rejection for Elapsed {
    fn pattern(&self) -> Pattern {
        Pattern::Timeout
    }

    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_limit_and_the_phase() {
        let e = Elapsed::new(Duration::from_millis(250), Phase::Response);
        assert_eq!(e.to_string(), "request timed out after 250ms");
        let e = Elapsed::new(Duration::from_secs(1), Phase::Ready).by_deadline();
        assert_eq!(
            e.to_string(),
            "waiting for readiness timed out after 1s (deadline)"
        );
        assert!(e.is_deadline());
    }
}

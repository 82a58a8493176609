//! An overall deadline that travels with a request.

use std::time::Duration;

use tokio::time::Instant;

/// The instant by which a request as a whole must be answered.
///
/// Put it in a request's extensions (for HTTP, `request.extensions_mut()`) and
/// every seawall timeout below uses the smaller of its own limit and what is
/// left of the deadline. The HTTP crate can read it from, and write it to, a
/// header so that the budget follows the request to the next hop.
///
/// Time comes from `tokio::time`, so paused-time tests control it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline {
    at: Instant,
}

impl Deadline {
    /// A deadline at `at`.
    pub fn at(at: Instant) -> Self {
        Deadline { at }
    }

    /// A deadline `budget` from now. A budget too large to represent is
    /// clamped to about thirty years from now.
    pub fn after(budget: Duration) -> Self {
        let now = Instant::now();
        let at = now
            .checked_add(budget)
            .unwrap_or_else(|| now + Duration::from_secs(30 * 365 * 24 * 3600));
        Deadline { at }
    }

    /// The instant itself.
    pub fn instant(&self) -> Instant {
        self.at
    }

    /// The time left, zero once the deadline has passed.
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// Returns `true` once the deadline has passed.
    pub fn is_expired(&self) -> bool {
        self.remaining().is_zero()
    }

    /// The earlier of two deadlines.
    pub fn earliest(self, other: Deadline) -> Deadline {
        self.min(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn remaining_shrinks_with_time_and_stops_at_zero() {
        let deadline = Deadline::after(Duration::from_millis(100));
        assert_eq!(deadline.remaining(), Duration::from_millis(100));

        tokio::time::advance(Duration::from_millis(60)).await;
        assert_eq!(deadline.remaining(), Duration::from_millis(40));
        assert!(!deadline.is_expired());

        tokio::time::advance(Duration::from_millis(60)).await;
        assert_eq!(deadline.remaining(), Duration::ZERO);
        assert!(deadline.is_expired());
    }

    #[tokio::test(start_paused = true)]
    async fn huge_budgets_are_clamped_and_earliest_wins() {
        let far = Deadline::after(Duration::MAX);
        assert!(far.remaining() > Duration::from_secs(365 * 24 * 3600));
        let near = Deadline::after(Duration::from_secs(1));
        assert_eq!(far.earliest(near), near);
        assert_eq!(near.earliest(far), near);
    }
}

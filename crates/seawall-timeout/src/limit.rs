//! The limit one request runs under, and turning instants into deadlines.

use std::time::Duration;

use seawall_core::rejection::{Elapsed, Phase};
use seawall_core::Deadline;
use tokio::time::Instant;

/// About thirty years: as good as never, and still a valid `Instant`. The
/// same clamp `Deadline::after` uses.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// The limit that applies to one wait, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit {
    duration: Duration,
    by_deadline: bool,
}

impl Limit {
    /// The layer's own limit, not bounded by any deadline.
    #[inline]
    pub(crate) fn own(duration: Duration) -> Self {
        Limit {
            duration,
            by_deadline: false,
        }
    }

    /// The smaller of `own` and what is left at `now` of `deadline`.
    ///
    /// When the two are equal the layer's own limit is reported, so that
    /// `by_deadline` means the deadline was strictly tighter.
    #[inline]
    pub(crate) fn for_request(own: Duration, deadline: Option<Deadline>, now: Instant) -> Self {
        let Some(deadline) = deadline else {
            return Limit::own(own);
        };
        let remaining = deadline.instant().saturating_duration_since(now);
        if remaining < own {
            Limit {
                duration: remaining,
                by_deadline: true,
            }
        } else {
            Limit::own(own)
        }
    }

    /// The length of the wait allowed.
    pub(crate) fn duration(&self) -> Duration {
        self.duration
    }

    /// Returns `true` when the deadline left nothing to wait for.
    #[inline]
    pub(crate) fn is_exhausted(&self) -> bool {
        self.duration.is_zero()
    }

    /// The instant this limit runs out, for a wait that began at `start`.
    #[inline]
    pub(crate) fn expires_at(&self, start: Instant) -> Instant {
        instant_after(start, self.duration)
    }

    /// The error reporting that this limit ran out in `phase`.
    pub(crate) fn elapsed(&self, phase: Phase) -> Elapsed {
        let elapsed = Elapsed::new(self.duration, phase);
        if self.by_deadline {
            elapsed.by_deadline()
        } else {
            elapsed
        }
    }
}

/// `start + duration`, clamped so that a limit near `Duration::MAX` means
/// "practically never" instead of an overflow panic.
#[inline]
pub(crate) fn instant_after(start: Instant, duration: Duration) -> Instant {
    start
        .checked_add(duration)
        .unwrap_or_else(|| start + FAR_FUTURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn no_deadline_means_the_own_limit() {
        let now = Instant::now();
        let limit = Limit::for_request(SECOND, None, now);
        assert_eq!(limit, Limit::own(SECOND));
        assert!(!limit.elapsed(Phase::Response).is_deadline());
    }

    #[test]
    fn the_tighter_of_limit_and_deadline_wins() {
        let now = Instant::now();
        let near = Deadline::at(now + Duration::from_millis(300));
        let limit = Limit::for_request(SECOND, Some(near), now);
        assert_eq!(limit.duration(), Duration::from_millis(300));
        assert!(limit.elapsed(Phase::Response).is_deadline());

        let far = Deadline::at(now + 2 * SECOND);
        assert_eq!(
            Limit::for_request(SECOND, Some(far), now),
            Limit::own(SECOND)
        );

        let equal = Deadline::at(now + SECOND);
        assert_eq!(
            Limit::for_request(SECOND, Some(equal), now),
            Limit::own(SECOND)
        );
    }

    #[test]
    fn a_passed_deadline_exhausts_the_limit() {
        let now = Instant::now();
        let past = Deadline::at(now);
        let limit = Limit::for_request(SECOND, Some(past), now + SECOND);
        assert!(limit.is_exhausted());
        let elapsed = limit.elapsed(Phase::Response);
        assert_eq!(elapsed.limit(), Duration::ZERO);
        assert!(elapsed.is_deadline());
    }

    #[test]
    fn huge_limits_do_not_overflow() {
        let now = Instant::now();
        let at = Limit::own(Duration::MAX).expires_at(now);
        assert_eq!(at, now + FAR_FUTURE);
        assert_eq!(instant_after(now, SECOND), now + SECOND);
    }
}

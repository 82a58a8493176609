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

/// Reads the overall deadline, if any, that a request carries.
///
/// Layers that honour a deadline (the timeout, the shedder's queue) serve
/// any request type, and most request types have nowhere to carry one, so
/// reading it is chosen when such a layer is built, through a type
/// parameter. [`IgnoreDeadline`] reads nothing and costs nothing; with the
/// `http` feature, [`HttpExtensions`] reads an `http::Request`'s
/// extensions; any other request type opts in with a closure or function
/// `Fn(&Req) -> Option<Deadline>`. One trait for every layer, so a source
/// written once serves them all.
///
/// ```
/// use std::time::Duration;
/// use seawall_core::deadline::{DeadlineSource, IgnoreDeadline};
/// use seawall_core::Deadline;
///
/// struct Job {
///     deadline: Option<Deadline>,
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let job = Job { deadline: Some(Deadline::after(Duration::from_secs(1))) };
/// let from_job = |job: &Job| job.deadline;
/// assert_eq!(from_job.deadline(&job), job.deadline);
/// assert_eq!(IgnoreDeadline.deadline(&job), None);
/// # }
/// ```
pub trait DeadlineSource<Req> {
    /// The request's deadline, or `None` when it has none.
    fn deadline(&self, request: &Req) -> Option<Deadline>;
}

/// Reads no deadline: a layer's own bound alone applies. The default
/// source of every layer that takes one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IgnoreDeadline;

impl<Req> DeadlineSource<Req> for IgnoreDeadline {
    #[inline]
    fn deadline(&self, _request: &Req) -> Option<Deadline> {
        None
    }
}

impl<Req, F> DeadlineSource<Req> for F
where
    F: Fn(&Req) -> Option<Deadline>,
{
    #[inline]
    fn deadline(&self, request: &Req) -> Option<Deadline> {
        self(request)
    }
}

/// Reads the [`Deadline`] placed in an `http::Request`'s extensions (by
/// seawall-http's deadline header layer, or by the application).
///
/// ```
/// use std::time::Duration;
/// use seawall_core::deadline::{DeadlineSource, HttpExtensions};
/// use seawall_core::Deadline;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let mut request = http::Request::new(());
/// let deadline = Deadline::after(Duration::from_millis(300));
/// request.extensions_mut().insert(deadline);
/// assert_eq!(HttpExtensions.deadline(&request), Some(deadline));
/// # }
/// ```
#[cfg(feature = "http")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpExtensions;

#[cfg(feature = "http")]
impl<B> DeadlineSource<http::Request<B>> for HttpExtensions {
    #[inline]
    fn deadline(&self, request: &http::Request<B>) -> Option<Deadline> {
        request.extensions().get::<Deadline>().copied()
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

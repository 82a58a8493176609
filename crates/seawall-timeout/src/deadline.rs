//! Where a request's overall [`Deadline`] is read from.
//!
//! `Timeout` serves any request type, and most request types have nowhere
//! to carry a deadline, so reading one is a choice made when the layer is
//! built: the layer's type parameter `D` is a [`DeadlineSource`]. The default,
//! [`IgnoreDeadline`], reads nothing and costs nothing. With the `http`
//! feature, `HttpExtensions` reads the deadline from an `http::Request`'s
//! extensions. Any other request type opts in with a closure or function
//! `Fn(&Req) -> Option<Deadline>`.
//!
//! ```
//! use std::time::Duration;
//! use seawall_core::Deadline;
//! use seawall_timeout::TimeoutLayer;
//!
//! struct Job {
//!     deadline: Option<Deadline>,
//! }
//!
//! let layer = TimeoutLayer::builder()
//!     .timeout(Duration::from_secs(2))
//!     .deadline_from(|job: &Job| job.deadline)
//!     .build()?;
//! # Ok::<(), seawall_timeout::error::ConfigError>(())
//! ```

use seawall_core::Deadline;

/// Reads the overall deadline, if any, that a request carries.
///
/// The timeout uses the smaller of its own limit and what is left of this
/// deadline when the request is called.
pub trait DeadlineSource<Req> {
    /// The request's deadline, or `None` when it has none.
    fn deadline(&self, request: &Req) -> Option<Deadline>;
}

/// Reads no deadline: the timeout's own limit alone applies.
///
/// The default source, so that `Timeout` works with any request type.
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

/// Reads the [`Deadline`] placed in an `http::Request`'s extensions.
///
/// ```
/// use std::time::Duration;
/// use seawall_core::Deadline;
/// use seawall_timeout::deadline::{DeadlineSource, HttpExtensions};
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

//! Local rejections: a seawall layer refusing work before the inner service
//! sees it.
//!
//! Each layer refuses with its own small error type, named for the condition
//! ([`Elapsed`], [`BulkheadFull`], [`Overloaded`], ...). They all live here,
//! in one place, because three different parties must recognise every one of
//! them: the HTTP mapping that turns a rejection into a response, the
//! classifiers that must not count another layer's refusal against an
//! upstream, and retries that must never retry a local refusal. Keeping the
//! set closed turns that recognition into a plain list of downcasts, with no
//! registry and no dependency from the HTTP crate on every layer crate.
//!
//! Each layer crate re-exports its own type, so `err.is::<BulkheadFull>()`
//! works whichever path the user names it by.

mod bulkhead_full;
mod circuit_open;
mod elapsed;
mod not_ready;
mod overloaded;
mod rate_limited;

use std::error::Error;
use std::fmt;
use std::time::Duration;

pub use bulkhead_full::BulkheadFull;
pub use circuit_open::CircuitOpen;
pub use elapsed::{Elapsed, Phase};
pub use not_ready::NotReady;
pub use overloaded::Overloaded;
pub use rate_limited::{QuotaPolicy, RateLimited};

/// The stability pattern a layer implements; says which layer refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Pattern {
    /// A timeout ran out.
    Timeout,
    /// A bulkhead had no free permit.
    Bulkhead,
    /// A circuit breaker was open.
    CircuitBreaker,
    /// A load shedder judged the service overloaded.
    LoadShed,
    /// A rate limit was exhausted.
    Governor,
    /// The instance is not accepting work (draining, not ready), or an
    /// upstream asked for time.
    Handshake,
    /// A retry budget was exhausted.
    Retry,
}

impl Pattern {
    /// A short, stable name for logs and metric labels.
    pub fn as_str(&self) -> &'static str {
        match self {
            Pattern::Timeout => "timeout",
            Pattern::Bulkhead => "bulkhead",
            Pattern::CircuitBreaker => "circuit_breaker",
            Pattern::LoadShed => "load_shed",
            Pattern::Governor => "governor",
            Pattern::Handshake => "handshake",
            Pattern::Retry => "retry",
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error by which a seawall layer refused work locally.
///
/// Every seawall rejection implements it. Use [`find`] to recognise one inside
/// a `BoxError`, or downcast to the concrete type to read its own data.
pub trait Rejection: Error + Send + Sync + 'static {
    /// Which layer refused.
    fn pattern(&self) -> Pattern;

    /// How long the caller should wait before trying again, where the layer
    /// knows.
    fn retry_after(&self) -> Option<Duration>;
}

/// Finds the seawall rejection in `error` or in its chain of sources.
///
/// Returns `None` when no layer of seawall refused: the error came from the
/// inner service.
///
/// ```
/// use seawall_core::rejection::{self, BulkheadFull, Pattern};
/// use seawall_core::BoxError;
///
/// let error: BoxError = BulkheadFull::new(8).into();
/// let found = rejection::find(&*error).expect("a seawall rejection");
/// assert_eq!(found.pattern(), Pattern::Bulkhead);
///
/// let other: BoxError = "connection reset".into();
/// assert!(rejection::find(&*other).is_none());
/// ```
pub fn find<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a dyn Rejection> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(found) = downcast(error) {
            return Some(found);
        }
        next = error.source();
    }
    None
}

/// Returns `true` when [`find`] recognises a seawall rejection in `error`.
pub fn is_rejection(error: &(dyn Error + 'static)) -> bool {
    find(error).is_some()
}

fn downcast<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a dyn Rejection> {
    if let Some(e) = error.downcast_ref::<Elapsed>() {
        return Some(e);
    }
    if let Some(e) = error.downcast_ref::<BulkheadFull>() {
        return Some(e);
    }
    if let Some(e) = error.downcast_ref::<CircuitOpen>() {
        return Some(e);
    }
    if let Some(e) = error.downcast_ref::<RateLimited>() {
        return Some(e);
    }
    if let Some(e) = error.downcast_ref::<NotReady>() {
        return Some(e);
    }
    if let Some(e) = error.downcast_ref::<Overloaded>() {
        return Some(e);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoxError;

    #[derive(Debug)]
    struct Wrapper(BoxError);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("wrapped")
        }
    }

    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&*self.0)
        }
    }

    #[test]
    fn finds_a_rejection_behind_a_wrapper() {
        let inner: BoxError = Elapsed::new(Duration::from_millis(5), Phase::Response).into();
        let outer = Wrapper(inner);
        let found = find(&outer).expect("the elapsed error is in the chain");
        assert_eq!(found.pattern(), Pattern::Timeout);
        assert!(is_rejection(&outer));
    }

    #[test]
    fn an_inner_error_is_not_a_rejection() {
        let outer = Wrapper("boom".into());
        assert!(find(&outer).is_none());
    }
}

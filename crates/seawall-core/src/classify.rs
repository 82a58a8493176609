//! Turning a finished call into an [`Outcome`].

use std::time::Duration;

use crate::rejection::{self, Pattern};
use crate::{BoxError, FailureKind, Outcome};

/// Maps the result of a finished call, and how long it took, to an
/// [`Outcome`].
///
/// It sees the result before any boxing by outer layers, so an implementation
/// can match its own response and error types. A closure of the same shape is
/// a classifier too:
///
/// ```
/// use std::time::Duration;
/// use seawall_core::{Classify, FailureKind, Outcome};
///
/// // A 4xx is the caller's fault; anything else that failed counts.
/// let by_status = |result: &Result<u16, std::io::Error>, _: Duration| match result {
///     Ok(status) if *status >= 500 => Outcome::Failure(FailureKind::Error),
///     Ok(status) if *status >= 400 => Outcome::Ignored,
///     Ok(_) => Outcome::Success,
///     Err(_) => Outcome::Failure(FailureKind::Error),
/// };
/// assert_eq!(by_status.classify(&Ok(503), Duration::ZERO), Outcome::Failure(FailureKind::Error));
/// assert_eq!(by_status.classify(&Ok(404), Duration::ZERO), Outcome::Ignored);
/// ```
pub trait Classify<T, E> {
    /// Classifies one finished call.
    fn classify(&self, result: &Result<T, E>, elapsed: Duration) -> Outcome;

    /// How long the callee asked its callers to stay away, where its answer
    /// says so (an HTTP `Retry-After`). A circuit breaker stays open at least
    /// that long. The default reads nothing.
    fn retry_after(&self, result: &Result<T, E>) -> Option<Duration> {
        let _ = result;
        None
    }

    /// Whether [`classify`](Classify::classify) reads its `elapsed`
    /// argument.
    ///
    /// Reading the clock twice per call costs about as much as a whole
    /// circuit breaker's closed path, so a layer that needs the duration for
    /// nothing else skips the clock and passes `Duration::ZERO` when this
    /// returns `false`. The default is `true`, which is always correct.
    fn uses_elapsed(&self) -> bool {
        true
    }
}

impl<T, E, F> Classify<T, E> for F
where
    F: Fn(&Result<T, E>, Duration) -> Outcome,
{
    fn classify(&self, result: &Result<T, E>, elapsed: Duration) -> Outcome {
        self(result, elapsed)
    }
}

/// The classifier for services whose errors are `BoxError`: every response is
/// a success and every error a failure, except seawall's own local rejections.
///
/// A timeout ([`Elapsed`](crate::rejection::Elapsed)) counts as [`FailureKind::Timeout`]: the upstream was
/// too slow. Any other seawall rejection (a bulkhead or a rate limit refusing
/// locally) is [`Outcome::Ignored`], since it says nothing about the upstream.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultClassifier;

impl<T> Classify<T, BoxError> for DefaultClassifier {
    fn classify(&self, result: &Result<T, BoxError>, _elapsed: Duration) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(error) => classify_error(&**error),
        }
    }

    fn uses_elapsed(&self) -> bool {
        false
    }
}

/// Classifies an error the way [`DefaultClassifier`] does; for classifiers
/// that handle responses themselves and want the default for errors.
pub fn classify_error(error: &(dyn std::error::Error + 'static)) -> Outcome {
    match rejection::find(error) {
        None => Outcome::Failure(FailureKind::Error),
        Some(found) if found.pattern() == Pattern::Timeout => {
            Outcome::Failure(FailureKind::Timeout)
        }
        Some(_) => Outcome::Ignored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rejection::{BulkheadFull, Elapsed, Phase};

    #[test]
    fn default_classifier_separates_upstream_from_local() {
        let c = DefaultClassifier;
        let ok: Result<(), BoxError> = Ok(());
        assert_eq!(c.classify(&ok, Duration::ZERO), Outcome::Success);

        let upstream: Result<(), BoxError> = Err("connection refused".into());
        assert_eq!(
            c.classify(&upstream, Duration::ZERO),
            Outcome::Failure(FailureKind::Error)
        );

        let timeout: Result<(), BoxError> =
            Err(Elapsed::new(Duration::from_secs(1), Phase::Response).into());
        assert_eq!(
            c.classify(&timeout, Duration::ZERO),
            Outcome::Failure(FailureKind::Timeout)
        );

        let local: Result<(), BoxError> = Err(BulkheadFull::new(2).into());
        assert_eq!(c.classify(&local, Duration::ZERO), Outcome::Ignored);
    }

    #[test]
    fn only_classifiers_that_read_elapsed_say_so() {
        assert!(!Classify::<(), BoxError>::uses_elapsed(&DefaultClassifier));
        let by_time = |_: &Result<(), BoxError>, elapsed: Duration| {
            if elapsed > Duration::from_secs(1) {
                Outcome::Failure(FailureKind::Slow)
            } else {
                Outcome::Success
            }
        };
        assert!(by_time.uses_elapsed());
    }
}

//! What became of a finished call.

/// The classification of one finished call, shared by every layer that learns
/// from results (circuit breakers, adaptive limits, retry budgets).
///
/// A [`Classify`](crate::Classify) implementation produces it from the call's
/// result and its elapsed time; a layer that sees its response future dropped
/// records [`Outcome::Cancelled`] without asking the classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The call did what the caller asked.
    Success,
    /// The call failed in a way that speaks against the callee.
    Failure(FailureKind),
    /// The call says nothing about the callee's health (a caller's mistake, a
    /// local rejection by another layer) and must not be counted.
    Ignored,
    /// The response future was dropped before it completed.
    Cancelled,
}

/// Why a call counted as a [`Outcome::Failure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// The callee returned an error (a transport error, a 5xx).
    Error,
    /// The call ran out of time.
    Timeout,
    /// The call succeeded, but took longer than the caller's slow-call
    /// threshold.
    Slow,
    /// The callee refused the work itself (a 429 or a 503 with
    /// `Retry-After`): it is overloaded rather than broken.
    Rejected,
}

impl Outcome {
    /// Returns `true` for [`Outcome::Success`].
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }

    /// Returns `true` for any [`Outcome::Failure`].
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failure(_))
    }

    /// A short, stable name for logs and metric labels.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure(kind) => kind.as_str(),
            Outcome::Ignored => "ignored",
            Outcome::Cancelled => "cancelled",
        }
    }
}

impl FailureKind {
    /// A short, stable name for logs and metric labels.
    pub fn as_str(&self) -> &'static str {
        match self {
            FailureKind::Error => "error",
            FailureKind::Timeout => "timeout",
            FailureKind::Slow => "slow",
            FailureKind::Rejected => "rejected",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct() {
        let all = [
            Outcome::Success,
            Outcome::Failure(FailureKind::Error),
            Outcome::Failure(FailureKind::Timeout),
            Outcome::Failure(FailureKind::Slow),
            Outcome::Failure(FailureKind::Rejected),
            Outcome::Ignored,
            Outcome::Cancelled,
        ];
        let mut names: Vec<_> = all.iter().map(Outcome::as_str).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(all.iter().filter(|o| o.is_failure()).count() == 4);
        assert!(Outcome::Success.is_success() && !Outcome::Ignored.is_success());
    }
}

use std::error::Error;
use std::fmt;
use std::time::Duration;

use super::{Pattern, Rejection};

/// A load shedder judged the service overloaded and refused the request
/// before it ran.
///
/// It carries the concurrency limit in force when the request was refused
/// and, for a request that waited in a queue first, how long it waited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overloaded {
    limit: usize,
    waited: Option<Duration>,
    retry_after: Option<Duration>,
}

impl Overloaded {
    /// A refusal by a shedder whose concurrency limit was `limit`.
    pub fn new(limit: usize) -> Self {
        Overloaded {
            limit,
            waited: None,
            retry_after: None,
        }
    }

    /// Records that the request waited `waited` in a queue before it was
    /// dropped.
    pub fn with_waited(mut self, waited: Duration) -> Self {
        self.waited = Some(waited);
        self
    }

    /// Sets the hint given to callers on when to try again.
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = Some(retry_after);
        self
    }

    /// The concurrency limit in force when the request was refused.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// How long the request waited in a queue before it was dropped; `None`
    /// when it was refused on arrival.
    pub fn waited(&self) -> Option<Duration> {
        self.waited
    }
}

impl fmt::Display for Overloaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "overloaded (limit {}", self.limit)?;
        if let Some(waited) = self.waited {
            write!(f, ", queued {waited:?}")?;
        }
        f.write_str(")")
    }
}

impl Error for Overloaded {}

impl Rejection for Overloaded {
    fn pattern(&self) -> Pattern {
        Pattern::LoadShed
    }

    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_short_and_lowercase() {
        let e = Overloaded::new(12);
        assert_eq!(e.to_string(), "overloaded (limit 12)");
        assert_eq!(e.retry_after(), None);
        let e = e
            .with_waited(Duration::from_millis(30))
            .with_retry_after(Duration::from_secs(2));
        assert_eq!(e.to_string(), "overloaded (limit 12, queued 30ms)");
        assert_eq!(e.limit(), 12);
        assert_eq!(e.waited(), Some(Duration::from_millis(30)));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn find_recognises_it_and_the_default_classifier_ignores_it() {
        use crate::{BoxError, Classify, DefaultClassifier, Outcome};

        let error: BoxError = Overloaded::new(4).into();
        let found = super::super::find(&*error).expect("a seawall rejection");
        assert_eq!(found.pattern(), Pattern::LoadShed);

        let refused: Result<(), BoxError> = Err(Overloaded::new(4).into());
        assert_eq!(
            DefaultClassifier.classify(&refused, Duration::ZERO),
            Outcome::Ignored
        );
    }
}

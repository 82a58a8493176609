use std::error::Error;
use std::fmt;
use std::time::Duration;

use super::{Pattern, Rejection};

/// The instance is not accepting new work: it is draining before a
/// shutdown, or it is not ready.
///
/// A handshake layer refuses with it before any other work is done; the HTTP
/// mapping answers `503 Service Unavailable` with its `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady {
    retry_after: Duration,
    draining: bool,
}

impl NotReady {
    /// A refusal that asks the caller to come back in `retry_after`.
    pub fn new(retry_after: Duration) -> Self {
        NotReady {
            retry_after,
            draining: false,
        }
    }

    /// Records that the instance refused because it is draining.
    pub fn with_draining(mut self, draining: bool) -> Self {
        self.draining = draining;
        self
    }

    /// Whether the instance refused because it is draining.
    pub fn is_draining(&self) -> bool {
        self.draining
    }
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not accepting requests")?;
        if self.draining {
            f.write_str(" (draining)")?;
        }
        write!(f, ", retry after {:?}", self.retry_after)
    }
}

impl Error for NotReady {}

impl Rejection for NotReady {
    fn pattern(&self) -> Pattern {
        Pattern::Handshake
    }

    fn retry_after(&self) -> Option<Duration> {
        Some(self.retry_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_says_why_and_when() {
        let e = NotReady::new(Duration::from_secs(5));
        assert_eq!(e.to_string(), "not accepting requests, retry after 5s");
        let e = e.with_draining(true);
        assert!(e.is_draining());
        assert_eq!(
            e.to_string(),
            "not accepting requests (draining), retry after 5s"
        );
        assert_eq!(e.pattern(), Pattern::Handshake);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(5)));
    }

    #[test]
    fn find_recognises_it() {
        let error: crate::BoxError = NotReady::new(Duration::from_secs(2)).into();
        let found = super::super::find(&*error).expect("a seawall rejection");
        assert_eq!(found.pattern(), Pattern::Handshake);
    }
}

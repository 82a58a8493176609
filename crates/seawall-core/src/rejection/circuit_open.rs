use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{Pattern, Rejection};

/// A circuit breaker was open and refused the call without trying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitOpen {
    name: Option<Arc<str>>,
    retry_after: Duration,
    forced: bool,
}

impl CircuitOpen {
    /// A refusal by an open breaker that allows its next probe in
    /// `retry_after`.
    pub fn new(retry_after: Duration) -> Self {
        CircuitOpen {
            name: None,
            retry_after,
            forced: false,
        }
    }

    /// Names the breaker (or, for keyed breakers, the key) that refused.
    pub fn with_name(mut self, name: Arc<str>) -> Self {
        self.name = Some(name);
        self
    }

    /// Marks the breaker as held open by an operator rather than by failures.
    pub fn forced(mut self) -> Self {
        self.forced = true;
        self
    }

    /// The breaker's name or key, where it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Returns `true` when an operator forced the breaker open.
    pub fn is_forced(&self) -> bool {
        self.forced
    }
}

impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("circuit")?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        if self.forced {
            f.write_str(" forced open")
        } else {
            write!(f, " open, retry after {:?}", self.retry_after)
        }
    }
}

impl Error for CircuitOpen {}

impl Rejection for CircuitOpen {
    fn pattern(&self) -> Pattern {
        Pattern::CircuitBreaker
    }

    fn retry_after(&self) -> Option<Duration> {
        Some(self.retry_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_says_when_to_come_back() {
        let e = CircuitOpen::new(Duration::from_secs(3));
        assert_eq!(e.to_string(), "circuit open, retry after 3s");
        let e = CircuitOpen::new(Duration::from_secs(3))
            .with_name("payments".into())
            .forced();
        assert_eq!(e.to_string(), "circuit \"payments\" forced open");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert!(e.is_forced());
    }
}

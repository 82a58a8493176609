use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{Pattern, Rejection};

/// A bulkhead had no free permit for the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkheadFull {
    max_in_flight: usize,
    partition: Option<Arc<str>>,
    waited: Option<Duration>,
    retry_after: Option<Duration>,
}

impl BulkheadFull {
    /// A refusal by a bulkhead of `max_in_flight` permits.
    pub fn new(max_in_flight: usize) -> Self {
        BulkheadFull {
            max_in_flight,
            partition: None,
            waited: None,
            retry_after: None,
        }
    }

    /// Names the partition whose share, and whose borrowing, was exhausted.
    pub fn with_partition(mut self, partition: Arc<str>) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Records that the request waited `waited` for a permit before being
    /// refused.
    pub fn with_waited(mut self, waited: Duration) -> Self {
        self.waited = Some(waited);
        self
    }

    /// Sets the hint given to callers on when to try again.
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = Some(retry_after);
        self
    }

    /// The bulkhead's total number of permits.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// The partition that was full, for a partitioned bulkhead.
    pub fn partition(&self) -> Option<&str> {
        self.partition.as_deref()
    }

    /// How long the request waited before being refused, in waiting mode.
    pub fn waited(&self) -> Option<Duration> {
        self.waited
    }
}

impl fmt::Display for BulkheadFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bulkhead full ({} permits", self.max_in_flight)?;
        if let Some(partition) = &self.partition {
            write!(f, ", partition {partition:?}")?;
        }
        if let Some(waited) = self.waited {
            write!(f, ", waited {waited:?}")?;
        }
        f.write_str(")")
    }
}

impl Error for BulkheadFull {}

impl Rejection for BulkheadFull {
    fn pattern(&self) -> Pattern {
        Pattern::Bulkhead
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
        let e = BulkheadFull::new(4);
        assert_eq!(e.to_string(), "bulkhead full (4 permits)");
        let e = BulkheadFull::new(4)
            .with_partition("tenant-a".into())
            .with_waited(Duration::from_millis(20))
            .with_retry_after(Duration::from_secs(1));
        assert_eq!(
            e.to_string(),
            "bulkhead full (4 permits, partition \"tenant-a\", waited 20ms)"
        );
        assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
        assert_eq!(e.partition(), Some("tenant-a"));
    }
}

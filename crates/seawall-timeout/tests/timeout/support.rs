//! Helpers shared by the tests: layers and errors.

use std::fmt;
use std::time::Duration;

use seawall_timeout::TimeoutLayer;

pub(crate) fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// A layer with only a response timeout.
pub(crate) fn response_layer(timeout: Duration) -> TimeoutLayer {
    TimeoutLayer::new(timeout)
}

/// A layer with a response timeout of one minute and a ready timeout.
pub(crate) fn ready_layer(ready_timeout: Duration) -> TimeoutLayer {
    TimeoutLayer::builder()
        .timeout(Duration::from_secs(60))
        .ready_timeout(ready_timeout)
        .build()
        .expect("a valid configuration")
}

/// An error of the inner service, to check it passes through unchanged.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InnerError(pub(crate) &'static str);

impl fmt::Display for InnerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "inner failed: {}", self.0)
    }
}

impl std::error::Error for InnerError {}

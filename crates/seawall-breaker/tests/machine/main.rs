//! The breaker's state machine, driven directly with time passed in as a
//! value: no `Service`, no runtime, no clock.

mod backoff;
mod half_open;
mod operator;
mod triggers;

use std::sync::Arc;
use std::time::Duration;

use seawall_breaker::error::CircuitOpen;
use seawall_breaker::{Breaker, BreakerConfig, BreakerConfigBuilder, BreakerState};
use seawall_core::{FailureKind, Outcome};
use tokio::time::Instant;

pub(crate) const FAILED: Outcome = Outcome::Failure(FailureKind::Error);
pub(crate) const OK: Outcome = Outcome::Success;

pub(crate) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A test breaker and the instant its clock starts at.
pub(crate) struct Subject {
    pub(crate) breaker: Arc<Breaker>,
    pub(crate) t0: Instant,
}

/// Settings with nothing on but what a test turns on.
pub(crate) fn quiet() -> BreakerConfigBuilder {
    BreakerConfig::builder()
        .failure_rate(None)
        .open_duration(secs(30))
        .half_open_timeout(secs(60))
}

impl Subject {
    pub(crate) fn new(config: BreakerConfigBuilder) -> Self {
        let config = config.build().expect("valid test settings");
        let t0 = Instant::now();
        Subject {
            breaker: Arc::new(Breaker::new_at(&config, t0)),
            t0,
        }
    }

    pub(crate) fn at(&self, offset: Duration) -> Instant {
        self.t0 + offset
    }

    /// Makes one call at `offset` that takes no time.
    pub(crate) fn call(&self, offset: Duration, outcome: Outcome) -> Result<(), CircuitOpen> {
        self.call_taking(offset, outcome, Duration::ZERO)
    }

    /// Makes one call that ends at `offset` after taking `elapsed`.
    pub(crate) fn call_taking(
        &self,
        offset: Duration,
        outcome: Outcome,
        elapsed: Duration,
    ) -> Result<(), CircuitOpen> {
        let now = self.at(offset);
        let permit = self.breaker.try_acquire_at(now)?;
        permit.record_at(outcome, elapsed, now);
        Ok(())
    }

    pub(crate) fn state(&self, offset: Duration) -> BreakerState {
        self.breaker.state_at(self.at(offset))
    }

    /// Trips a breaker configured with `consecutive_failures(1)`.
    pub(crate) fn trip(&self, offset: Duration) {
        self.call(offset, FAILED).expect("closed before the trip");
        assert_eq!(self.state(offset), BreakerState::Open);
    }
}

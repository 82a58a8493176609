//! Drain: stop taking new work, then wait for the work in hand.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use seawall_core::names::target;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::error::ConfigError;

/// A cloneable handle that drains the instance before it shuts down.
///
/// Clones share one state. Give it to a
/// [`ReadinessGateLayer`](crate::ReadinessGateLayer), which counts the
/// requests in flight and refuses new ones while draining, and to the
/// readiness [`HealthService`](crate::HealthService), which fails while
/// draining so the load balancer stops sending work.
///
/// [`drain`](Drain::drain) runs the three steps of a graceful shutdown:
///
/// 1. readiness fails at once (the call itself flips it, before the future
///    is first polled);
/// 2. the future waits [`notice_delay`](DrainBuilder::notice_delay) for the
///    load balancer to see the failing health check;
/// 3. it waits for the requests in flight to finish, for at most
///    [`timeout`](DrainBuilder::timeout) more, and says which happened.
///
/// Both waits are counted from the call to `drain`, not from the first
/// poll of its future.
///
/// # Cancel safety
///
/// Dropping the future returned by `drain` stops the waiting, but the
/// instance stays draining until [`undrain`](Drain::undrain) is called.
#[derive(Clone)]
pub struct Drain {
    pub(crate) shared: Arc<Shared>,
}

/// Builds a [`Drain`]; see [`Drain::builder`].
#[derive(Debug, Clone)]
pub struct DrainBuilder {
    notice_delay: Duration,
    timeout: Duration,
}

/// How a [`Drain::drain`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DrainOutcome {
    /// Every request in flight finished.
    Finished,
    /// The bound expired with requests still in flight.
    TimedOut {
        /// How many requests were still in flight.
        in_flight: usize,
    },
}

pub(crate) struct Shared {
    draining: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
    notice_delay: Duration,
    timeout: Duration,
}

/// One admitted request, counted in flight until dropped.
pub(crate) struct InFlight {
    shared: Arc<Shared>,
}

const MAX_DURATION: Duration = Duration::from_secs(3600);

impl Drain {
    /// A drain with the defaults: a 5 s notice delay and a 30 s bound.
    pub fn new() -> Self {
        DrainBuilder::default().build_unchecked()
    }

    /// A builder to set the notice delay and the bound.
    pub fn builder() -> DrainBuilder {
        DrainBuilder::default()
    }

    /// Starts draining: readiness fails now, and the returned future
    /// resolves when the instance may shut down.
    ///
    /// The future needs a tokio runtime with the `time` driver.
    pub fn drain(&self) -> impl Future<Output = DrainOutcome> + Send + 'static {
        let shared = self.shared.clone();
        if !shared.draining.swap(true, Ordering::SeqCst) {
            tracing::debug!(target: target::HANDSHAKE, draining = true, "drain started");
        }
        // The clock starts at the call, not at the first poll, so a future
        // awaited late does not push the shutdown back.
        let noticed = Instant::now() + shared.notice_delay;
        let bound = noticed + shared.timeout;
        async move {
            tokio::time::sleep_until(noticed).await;
            let outcome = match tokio::time::timeout_at(bound, shared.idle()).await {
                Ok(()) => DrainOutcome::Finished,
                Err(_) => DrainOutcome::TimedOut {
                    in_flight: shared.in_flight(),
                },
            };
            tracing::debug!(target: target::HANDSHAKE, ?outcome, "drain ended");
            outcome
        }
    }

    /// Takes new work again: readiness no longer fails for draining.
    pub fn undrain(&self) {
        if self.shared.draining.swap(false, Ordering::SeqCst) {
            tracing::debug!(target: target::HANDSHAKE, draining = false, "drain undone");
        }
    }

    /// Whether the instance is draining.
    pub fn is_draining(&self) -> bool {
        self.shared.is_draining()
    }

    /// How many admitted requests have not finished yet.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight()
    }
}

impl Default for Drain {
    fn default() -> Self {
        Drain::new()
    }
}

impl fmt::Debug for Drain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drain")
            .field("draining", &self.is_draining())
            .field("in_flight", &self.in_flight())
            .field("notice_delay", &self.shared.notice_delay)
            .field("timeout", &self.shared.timeout)
            .finish()
    }
}

impl DrainBuilder {
    /// How long to keep serving after readiness fails, so the load balancer
    /// notices before the wait for in-flight work starts: at most one hour,
    /// 5 s by default. Set it to a little more than the balancer's health
    /// check interval times its failure threshold.
    pub fn notice_delay(mut self, notice_delay: Duration) -> Self {
        self.notice_delay = notice_delay;
        self
    }

    /// The longest wait for in-flight requests: more than zero, at most one
    /// hour, 30 s by default.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Validates the settings and builds the handle.
    pub fn build(self) -> Result<Drain, ConfigError> {
        if self.notice_delay > MAX_DURATION {
            return Err(ConfigError::new(
                "notice_delay",
                format!(
                    "notice_delay must be at most 1h, got {:?}",
                    self.notice_delay
                ),
            ));
        }
        if self.timeout.is_zero() || self.timeout > MAX_DURATION {
            return Err(ConfigError::new(
                "timeout",
                format!(
                    "timeout must be more than 0s and at most 1h, got {:?}",
                    self.timeout
                ),
            ));
        }
        Ok(self.build_unchecked())
    }

    fn build_unchecked(self) -> Drain {
        Drain {
            shared: Arc::new(Shared {
                draining: AtomicBool::new(false),
                in_flight: AtomicUsize::new(0),
                idle: Notify::new(),
                notice_delay: self.notice_delay,
                timeout: self.timeout,
            }),
        }
    }
}

impl Default for DrainBuilder {
    fn default() -> Self {
        DrainBuilder {
            notice_delay: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
        }
    }
}

impl DrainOutcome {
    /// Whether every request in flight finished before the bound.
    pub fn is_finished(&self) -> bool {
        matches!(self, DrainOutcome::Finished)
    }
}

impl Shared {
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Counts a request in flight, or refuses it while draining.
    ///
    /// The count goes up before draining is checked, and `drain` sets the
    /// flag before it reads the count, so a request is either refused or
    /// seen by the drain; it cannot slip between them.
    pub(crate) fn admit(self: &Arc<Self>) -> Option<InFlight> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight {
            shared: self.clone(),
        };
        if self.is_draining() {
            return None;
        }
        Some(guard)
    }

    async fn idle(&self) {
        loop {
            // Register for the wake-up before reading the count, so a
            // release between the read and the wait is not missed.
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.shared.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.idle.notify_waiters();
        }
    }
}

impl fmt::Debug for InFlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InFlight")
    }
}

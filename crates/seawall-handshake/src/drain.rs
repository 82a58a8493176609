//! Drain: stop taking new work, then wait for the work in hand.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, Gauge};
use seawall_core::names::{label, target};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::error::{check_duration, ConfigError, MAX_DURATION};

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
/// 2. for the [`notice_delay`](DrainBuilder::notice_delay), the load
///    balancer has time to see the failing health check, and the gate
///    still serves every request it sends meanwhile, so none fails;
/// 3. when the notice delay is over, the gate refuses new requests with
///    `503`, and the future waits for the requests in flight to finish, for
///    at most [`timeout`](DrainBuilder::timeout) more, and says which
///    happened.
///
/// Both waits are counted from the call to `drain`, not from the first
/// poll of its future, and the gate closes when the notice delay is over
/// whether or not anyone awaits the future: an operator may drain an
/// instance (take it out of the balancer) and leave it running.
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
    name: Cow<'static, str>,
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
    /// Zero while not draining; else one more than the instant the gate
    /// closes, in nanoseconds since `epoch`. One word, so a gate never sees
    /// "draining" with a stale closing time.
    closes_at: AtomicU64,
    epoch: Instant,
    in_flight: AtomicUsize,
    idle: Notify,
    name: Cow<'static, str>,
    notice_delay: Duration,
    timeout: Duration,
    metrics: Metrics,
}

struct Metrics {
    draining: Gauge,
    refused: Counter,
}

/// One admitted request, counted in flight until dropped.
pub(crate) struct InFlight {
    shared: Arc<Shared>,
}

impl Drain {
    /// A drain with the defaults: a 5 s notice delay and a 30 s bound.
    pub fn new() -> Self {
        DrainBuilder::default().build_unchecked()
    }

    /// A builder to set the notice delay and the bound.
    pub fn builder() -> DrainBuilder {
        DrainBuilder::default()
    }

    /// Starts draining: readiness fails now, the gate closes when the
    /// notice delay is over, and the returned future resolves when the
    /// instance may shut down.
    ///
    /// Calling it while already draining keeps the first call's closing
    /// time: the returned future waits for that one.
    ///
    /// The future needs a tokio runtime with the `time` driver.
    pub fn drain(&self) -> impl Future<Output = DrainOutcome> + Send + 'static {
        let shared = self.shared.clone();
        // The clock starts at the call, not at the first poll, so a future
        // awaited late does not push the shutdown back.
        let noticed = shared.start_draining(Instant::now());
        let bound = noticed + shared.timeout;
        async move {
            tokio::time::sleep_until(noticed).await;
            let outcome = match tokio::time::timeout_at(bound, shared.idle()).await {
                Ok(()) => DrainOutcome::Finished,
                Err(_) => DrainOutcome::TimedOut {
                    in_flight: shared.in_flight(),
                },
            };
            tracing::debug!(
                target: target::HANDSHAKE,
                name = %shared.name,
                ?outcome,
                "drain ended"
            );
            outcome
        }
    }

    /// Takes new work again: readiness no longer fails for draining, and
    /// the gate admits every request. A [`drain`](Drain::drain) future
    /// already running still resolves on its own schedule.
    pub fn undrain(&self) {
        if self.shared.closes_at.swap(0, Ordering::SeqCst) != 0 {
            self.shared.metrics.draining.set(0.0);
            tracing::debug!(
                target: target::HANDSHAKE,
                name = %self.shared.name,
                draining = false,
                "drain undone"
            );
        }
    }

    /// Whether the instance is draining: from the call to
    /// [`drain`](Drain::drain) until [`undrain`](Drain::undrain).
    pub fn is_draining(&self) -> bool {
        self.shared.is_draining()
    }

    /// Whether the gate refuses new requests now: draining, and the notice
    /// delay is over.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed(Instant::now())
    }

    /// The name the drain's metrics and events carry.
    pub fn name(&self) -> &str {
        &self.shared.name
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
            .field("name", &self.shared.name)
            .field("draining", &self.is_draining())
            .field("in_flight", &self.in_flight())
            .field("notice_delay", &self.shared.notice_delay)
            .field("timeout", &self.shared.timeout)
            .finish()
    }
}

impl DrainBuilder {
    /// The name the metrics and events carry (label `name`), `default`
    /// unless set.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// How long to keep serving after readiness fails, so the load balancer
    /// notices before the gate closes and the wait for in-flight work
    /// starts: at most one hour, 5 s by default. Set it to a little more
    /// than the balancer's health check interval times its failure
    /// threshold; with zero, the gate closes at once.
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

    /// Validates the settings and builds the handle, registering its
    /// metrics (`seawall_handshake_draining`,
    /// `seawall_handshake_refused_total`, labelled `name`).
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
        check_duration("timeout", self.timeout)?;
        Ok(self.build_unchecked())
    }

    fn build_unchecked(self) -> Drain {
        let name = self.name;
        let metrics = Metrics {
            draining: metrics::gauge!("seawall_handshake_draining", label::NAME => name.clone()),
            refused: metrics::counter!(
                "seawall_handshake_refused_total",
                label::NAME => name.clone()
            ),
        };
        metrics.draining.set(0.0);
        Drain {
            shared: Arc::new(Shared {
                closes_at: AtomicU64::new(0),
                epoch: Instant::now(),
                in_flight: AtomicUsize::new(0),
                idle: Notify::new(),
                name,
                notice_delay: self.notice_delay,
                timeout: self.timeout,
                metrics,
            }),
        }
    }
}

impl Default for DrainBuilder {
    fn default() -> Self {
        DrainBuilder {
            name: Cow::Borrowed("default"),
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
        self.closes_at.load(Ordering::SeqCst) != 0
    }

    /// Whether the gate refuses at `now`.
    fn is_closed(&self, now: Instant) -> bool {
        match self.closes_at.load(Ordering::SeqCst) {
            0 => false,
            closes_at => self.nanos(now) + 1 >= closes_at,
        }
    }

    /// Marks the instance draining unless it is already, and returns when
    /// the gate closes.
    fn start_draining(&self, now: Instant) -> Instant {
        let closes_at = self.nanos(now + self.notice_delay) + 1;
        let started =
            self.closes_at
                .compare_exchange(0, closes_at, Ordering::SeqCst, Ordering::SeqCst);
        match started {
            Ok(_) => {
                self.metrics.draining.set(1.0);
                tracing::debug!(
                    target: target::HANDSHAKE,
                    name = %self.name,
                    draining = true,
                    notice_delay = ?self.notice_delay,
                    "drain started"
                );
                now + self.notice_delay
            }
            Err(earlier) => self.epoch + Duration::from_nanos(earlier - 1),
        }
    }

    /// Nanoseconds from the epoch to `at`; saturates after 584 years.
    fn nanos(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.epoch).as_nanos();
        u64::try_from(since).unwrap_or(u64::MAX - 1)
    }

    pub(crate) fn record_refusal(&self) {
        self.metrics.refused.increment(1);
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Counts a request in flight, or refuses it once the gate is closed.
    ///
    /// The count goes up before the gate is checked, and the drain reads
    /// the count only after the gate's closing time, so a request is either
    /// refused or seen by the drain; it cannot slip between them. The clock
    /// is read only while draining.
    pub(crate) fn admit(self: &Arc<Self>) -> Option<InFlight> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight {
            shared: self.clone(),
        };
        if self.is_draining() && self.is_closed(Instant::now()) {
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

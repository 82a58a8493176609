//! The breaker itself: shared, non-generic state behind an `Arc`.

use std::fmt;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use seawall_core::names::target;
use tokio::time::Instant;

use crate::backoff::{Backoff, Jitter};
use crate::config::BreakerConfig;
use crate::error::CircuitOpen;
use crate::permit::{Kind, Permit};
use crate::probes::{Probes, Take};
use crate::state::{BreakerState, Word};
use crate::sync::{AtomicBool, AtomicU32, AtomicU64, Mutex, MutexGuard, Ordering, Padded};
use crate::telemetry::Telemetry;
use crate::transition::Cause;
use crate::window::Window;

/// A circuit breaker's state, shared by every service, handle and permit
/// that uses it.
///
/// It is not generic, so a map can hold many (one per upstream host, say),
/// and it can be driven without any `Service`: ask
/// [`try_acquire`](Breaker::try_acquire) for a [`Permit`], make the call,
/// and [`record`](Permit::record) its outcome, or drop the permit if the call
/// was abandoned.
///
/// Every method that needs the time has an `_at` twin that takes it as a
/// value, which is how the state machine is tested. The closed path reads no
/// clock unless the configuration needs one (a time window or a slow-call
/// threshold), takes no lock and makes no allocation: admission is one
/// atomic load, and recording a success in a count window full of
/// successes one more load (see the crate docs for the other cases).
/// Transitions are rare and take a short lock.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use seawall_breaker::{Breaker, BreakerConfig, BreakerState};
/// use seawall_core::{FailureKind, Outcome, Rejection};
/// use tokio::time::Instant;
///
/// let config = BreakerConfig::builder().consecutive_failures(2).build()?;
/// let start = Instant::now();
/// let breaker = Arc::new(Breaker::new_at(&config, start));
///
/// for _ in 0..2 {
///     let permit = breaker.try_acquire_at(start).expect("closed");
///     permit.record_at(Outcome::Failure(FailureKind::Error), Duration::ZERO, start);
/// }
/// assert_eq!(breaker.state_at(start), BreakerState::Open);
/// let refused = breaker.try_acquire_at(start).unwrap_err();
/// assert_eq!(refused.retry_after(), Some(Duration::from_secs(30)));
/// # Ok::<(), seawall_breaker::error::ConfigError>(())
/// ```
#[repr(C)]
pub struct Breaker {
    // The closed path reads the state word, the rules and the success
    // counter: C order keeps them first and together. Nothing near them is
    // written per call (the state word only on transitions), so sharing
    // lines costs their readers nothing; the counters calls do write are
    // padded apart below. It matters for keyed breakers, which are many
    // and rarely all in cache.
    pub(crate) state: AtomicU64,
    /// Set once the breaker itself is in a health registry, whose entry
    /// then lasts as long as its memory: a thread's spare reference (see
    /// `lease.rs`) must not keep it. Read as every service call ends, so
    /// it sits on the state word's line.
    pub(crate) registered_directly: AtomicBool,
    pub(crate) rules: Rules,
    pub(crate) telemetry: Telemetry,
    pub(crate) consecutive: Padded<AtomicU32>,
    pub(crate) rejected: Padded<AtomicU64>,
    pub(crate) window: Window,
    pub(crate) probes: Probes,
    /// When the open period ends, in nanoseconds since `start`; written
    /// under `control` before the state word is published.
    pub(crate) open_until: AtomicU64,
    /// When a half-open period gives up, like `open_until`.
    pub(crate) half_open_deadline: AtomicU64,
    pub(crate) control: Mutex<Control>,
    pub(crate) config: BreakerConfig,
    pub(crate) start: Instant,
}

/// What only transitions touch, under the breaker's lock.
#[derive(Debug)]
pub(crate) struct Control {
    /// Trips in a row: the backoff step.
    pub(crate) trips: u32,
    pub(crate) total_trips: u64,
    pub(crate) shadow_trips: u64,
    pub(crate) jitter: Jitter,
}

/// The configuration, in the units the hot path compares; what every
/// call reads first (C order keeps it on the state word's line).
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Rules {
    pub(crate) slow_call_duration: Option<Duration>,
    pub(crate) consecutive_failures: Option<u32>,
    pub(crate) minimum_calls: u64,
    pub(crate) failure_ppm: Option<u64>,
    pub(crate) slow_ppm: Option<u64>,
    pub(crate) backoff: Backoff,
    pub(crate) half_open_timeout: u64,
    pub(crate) max_retry_after: Duration,
}

/// A refused call, before it becomes a [`CircuitOpen`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refusal {
    retry_after: Duration,
    forced: bool,
}

/// Reads the clock at most once, and only if asked.
pub(crate) struct Clock<F> {
    read: Option<F>,
    nanos: u64,
}

impl Breaker {
    /// A closed breaker, starting now by tokio's clock, with its metrics
    /// registered under the configuration's name.
    pub fn new(config: &BreakerConfig) -> Self {
        Breaker::new_at(config, Instant::now())
    }

    /// A closed breaker whose clock starts at `start`.
    pub fn new_at(config: &BreakerConfig, start: Instant) -> Self {
        Breaker::with_telemetry(config, start, Telemetry::register(&config.name))
    }

    /// A closed breaker reporting through `telemetry`: its own handles, or
    /// a keyed layer's shared ones.
    pub(crate) fn with_telemetry(
        config: &BreakerConfig,
        start: Instant,
        telemetry: Telemetry,
    ) -> Self {
        Breaker {
            state: AtomicU64::new(Word::INITIAL.0),
            registered_directly: AtomicBool::new(false),
            consecutive: Padded(AtomicU32::new(0)),
            rejected: Padded(AtomicU64::new(0)),
            window: Window::new(config.window),
            probes: Probes::new(config.half_open_probes, config.half_open_success_ratio),
            open_until: AtomicU64::new(0),
            half_open_deadline: AtomicU64::new(0),
            control: Mutex::new(Control {
                trips: 0,
                total_trips: 0,
                shadow_trips: 0,
                jitter: Jitter::new(),
            }),
            rules: Rules::new(config),
            config: config.clone(),
            start,
            telemetry,
        }
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The configuration the breaker was built with.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// Asks to make one call now, by tokio's clock.
    ///
    /// A closed breaker admits at once. An open one refuses with
    /// [`CircuitOpen`] until its open period is over; the first call after
    /// that turns it half-open and takes a probe slot. Reads the clock only
    /// when the breaker is not closed.
    #[inline]
    pub fn try_acquire(self: &Arc<Self>) -> Result<Permit, CircuitOpen> {
        match self.admit() {
            Ok(kind) => Ok(Permit::new(self.clone(), kind)),
            Err(refusal) => Err(self.refusal_error(refusal)),
        }
    }

    /// Asks to make one call at `now`.
    pub fn try_acquire_at(self: &Arc<Self>, now: Instant) -> Result<Permit, CircuitOpen> {
        match self.acquire(move || now) {
            Ok(kind) => Ok(Permit::new(self.clone(), kind)),
            Err(refusal) => Err(self.refusal_error(refusal)),
        }
    }

    /// Decides on one call now, leaving the caller to tie the admission to
    /// an owner; a refusal is small enough to keep in a service until its
    /// `call`.
    #[inline]
    pub(crate) fn admit(&self) -> Result<Kind, Refusal> {
        // The closed state's answer inline; everything else out of line.
        let word = Word(self.state.load(Ordering::Acquire));
        if word.state() == BreakerState::Closed {
            return Ok(Kind::Call(word));
        }
        self.acquire(Instant::now)
    }

    /// The error for a refusal.
    #[cold]
    pub(crate) fn refusal_error(&self, refusal: Refusal) -> CircuitOpen {
        let error = CircuitOpen::new(refusal.retry_after).with_name(self.config.name.clone());
        if refusal.forced {
            error.forced()
        } else {
            error
        }
    }

    /// Holds the breaker open for `retry_after` from `now` (at most
    /// `max_retry_after`), as an upstream that answered 503 with
    /// `Retry-After` asked. An open breaker stays open until the later of
    /// its own end and this one. The backoff step is left as it was. An
    /// operator state (forced open, disabled, metrics-only) ignores it.
    pub fn hold_open(&self, retry_after: Duration, now: Instant) {
        self.hold_open_nanos(retry_after, self.nanos(now));
    }

    #[inline(never)]
    fn acquire<F>(&self, read: F) -> Result<Kind, Refusal>
    where
        F: FnOnce() -> Instant,
    {
        let mut clock = Clock::new(read);
        loop {
            let word = Word(self.state.load(Ordering::Acquire));
            match word.state() {
                BreakerState::Closed | BreakerState::MetricsOnly => return Ok(Kind::Call(word)),
                BreakerState::Disabled => return Ok(Kind::Free),
                BreakerState::ForcedOpen => {
                    return Err(self.reject(word, self.rules.backoff.base()));
                }
                BreakerState::Open => {
                    let now = clock.nanos(self.start);
                    let until = self.open_until.load(Ordering::Relaxed);
                    if now < until {
                        return Err(self.reject(word, Duration::from_nanos(until - now)));
                    }
                    self.transition(word, BreakerState::HalfOpen, Cause::OpenElapsed, now);
                }
                BreakerState::HalfOpen => {
                    let now = clock.nanos(self.start);
                    if now >= self.half_open_deadline.load(Ordering::Relaxed) {
                        self.transition(word, BreakerState::Open, Cause::HalfOpenTimeout, now);
                        continue;
                    }
                    match self.probes.try_take(word.generation()) {
                        Take::Taken => return Ok(Kind::Probe(word.generation())),
                        Take::Full => return Err(self.reject(word, self.rules.backoff.base())),
                        Take::Stale => {}
                    }
                }
            }
        }
    }

    #[cold]
    fn reject(&self, word: Word, retry_after: Duration) -> Refusal {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        self.telemetry.rejected();
        let state = word.state();
        tracing::trace!(
            target: target::BREAKER,
            name = %self.config.name,
            state = state.as_str(),
            retry_after = ?retry_after,
            "call rejected"
        );
        Refusal {
            retry_after,
            forced: state == BreakerState::ForcedOpen,
        }
    }

    /// Whether a finished call may leave its reference as its thread's
    /// spare.
    #[inline]
    pub(crate) fn lends_spares(&self) -> bool {
        !self.registered_directly.load(Ordering::Relaxed)
    }

    /// Nanoseconds from the breaker's start to `now`, zero before it.
    pub(crate) fn nanos(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.start).as_nanos();
        u64::try_from(since).unwrap_or(u64::MAX)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Control> {
        // Every change under the lock is finished before anything that can
        // panic, so a poisoned lock still guards consistent data.
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Rules {
    fn new(config: &BreakerConfig) -> Self {
        let ppm = |rate: f64| (rate * PPM as f64).round() as u64;
        Rules {
            minimum_calls: u64::from(config.minimum_calls),
            failure_ppm: config.failure_rate.map(ppm),
            slow_ppm: config.slow_call_rate.map(ppm),
            consecutive_failures: config.consecutive_failures,
            slow_call_duration: config.slow_call_duration,
            backoff: Backoff::new(config),
            half_open_timeout: u64::try_from(config.half_open_timeout.as_nanos())
                .unwrap_or(u64::MAX),
            max_retry_after: config.max_retry_after,
        }
    }
}

/// Rates are compared in parts per million, in integers, so that a
/// threshold means the same on every machine.
pub(crate) const PPM: u64 = 1_000_000;

impl<F: FnOnce() -> Instant> Clock<F> {
    #[inline]
    pub(crate) fn new(read: F) -> Self {
        Clock {
            read: Some(read),
            nanos: 0,
        }
    }

    #[inline]
    pub(crate) fn nanos(&mut self, start: Instant) -> u64 {
        if let Some(read) = self.read.take() {
            let since = read().saturating_duration_since(start).as_nanos();
            self.nanos = u64::try_from(since).unwrap_or(u64::MAX);
        }
        self.nanos
    }
}

impl fmt::Debug for Breaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = Word(self.state.load(Ordering::Acquire));
        f.debug_struct("Breaker")
            .field("name", &self.config.name)
            .field("state", &word.state())
            .field("generation", &word.generation())
            .finish_non_exhaustive()
    }
}

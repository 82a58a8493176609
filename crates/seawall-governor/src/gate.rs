//! One service's side of the limiter: the admission it holds between
//! `poll_ready` and `call`, and the timer it waits on.

use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{ready, Context, Poll};

use seawall_core::names::target;
use tokio::time::{Instant, Sleep};

use crate::admit::Grants;
use crate::error::RateLimited;
use crate::limiter::{RateLimiter, Shared};

pub(crate) struct Gate {
    limiter: RateLimiter,
    state: State,
    /// Made the first time the service waits, reused after.
    timer: Option<Pin<Box<Sleep>>>,
    /// Seeded the first time the service draws jitter.
    rng: Option<SplitMix>,
}

enum State {
    Idle,
    /// Admitted on the global quotas; `waiting` until the slot comes.
    Reserved {
        grants: Grants,
        waiting: bool,
    },
    /// Refused in `poll_ready`; `call` hands the refusal over.
    Refused(RateLimited),
}

impl Gate {
    pub(crate) fn new(limiter: RateLimiter) -> Self {
        Gate {
            limiter,
            state: State::Idle,
            timer: None,
            rng: None,
        }
    }

    pub(crate) fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// Decides admission on the global quotas, unless it is decided, and
    /// waits for a reserved slot. `Ready(true)` once admitted and the slot
    /// has come, `Ready(false)` once refused.
    #[inline]
    pub(crate) fn poll_admission(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        if let State::Idle = self.state {
            self.decide();
        }
        match &mut self.state {
            State::Reserved { waiting, .. } => {
                if *waiting {
                    if let Some(timer) = &mut self.timer {
                        ready!(timer.as_mut().poll(cx));
                    }
                    *waiting = false;
                }
                Poll::Ready(true)
            }
            State::Refused(_) => Poll::Ready(false),
            State::Idle => unreachable!("admission was just decided"),
        }
    }

    /// Takes the decision `poll_ready` made, for `call`.
    ///
    /// # Panics
    ///
    /// When `poll_ready` did not return `Ready(Ok(()))` since the last call.
    #[inline]
    pub(crate) fn take_admission(&mut self) -> Result<(), RateLimited> {
        match mem::replace(&mut self.state, State::Idle) {
            // The admission is used: it is not given back.
            State::Reserved { waiting: false, .. } => Ok(()),
            State::Refused(refusal) => Err(refusal),
            other => {
                self.state = other;
                contract_violation("RateLimit")
            }
        }
    }

    /// Gives back an admission the service will not use, after its inner
    /// service failed.
    pub(crate) fn abandon(&mut self) {
        if let State::Reserved { grants, .. } = mem::replace(&mut self.state, State::Idle) {
            self.limiter.shared().release_global(&grants);
        }
    }

    fn decide(&mut self) {
        let shared: &Shared<()> = self.limiter.shared();
        let now = Instant::now();
        let at = shared.nanos(now);
        let plan = shared.plan(&mut self.rng);
        self.state = match shared.admit_global(at, &plan) {
            Ok(grants) => {
                let waiting = grants.slot > at;
                if waiting {
                    let deadline = shared.instant(grants.slot);
                    match &mut self.timer {
                        Some(timer) => timer.as_mut().reset(deadline),
                        None => self.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
                    }
                    tracing::trace!(
                        target: target::GOVERNOR,
                        name = %shared.name,
                        wait = ?deadline.saturating_duration_since(now),
                        "request waits"
                    );
                }
                State::Reserved { grants, waiting }
            }
            Err(refusal) => State::Refused(shared.refuse(refusal, false)),
        };
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        // An admission reserved and never used goes back, if it can.
        self.abandon();
    }
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Idle => "idle",
            State::Reserved { waiting: true, .. } => "waiting",
            State::Reserved { waiting: false, .. } => "admitted",
            State::Refused(_) => "refused",
        };
        f.debug_struct("Gate")
            .field("limiter", &self.limiter.name())
            .field("state", &state)
            .finish()
    }
}

#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn contract_violation(service: &str) -> ! {
    panic!(
        "{service}::call called before poll_ready returned Ready(Ok(())); \
         the tower Service contract requires a successful poll_ready before each call"
    )
}

/// SplitMix64: a few instructions per draw and good enough spread for
/// jitter. Each service gets its own seed from the limiter, so that
/// services do not draw in step.
#[derive(Debug)]
pub(crate) struct SplitMix(u64);

/// The SplitMix64 increment, the golden ratio in 64 bits.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl SplitMix {
    pub(crate) fn seeded<K>(shared: &Shared<K>) -> Self {
        SplitMix(mix(shared.seeds.fetch_add(GAMMA, Relaxed)))
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        mix(self.0)
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

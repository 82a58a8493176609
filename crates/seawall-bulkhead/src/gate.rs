//! One service's admission: what its `poll_ready` reserved and what its next
//! `call` may do. Shared by the plain and the HTTP services.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use seawall_core::rejection::BulkheadFull;

use crate::layer::BulkheadHandle;
use crate::shared::{Entry, Permit, Shared};
use crate::wait::{Step, Wait};

/// A service's view of the bulkhead.
///
/// The phase and the permit are kept apart, rather than as one enum, so a
/// request moves only the permit, two words, in and out of the gate.
pub(crate) struct Gate {
    shared: Arc<Shared>,
    /// Held, never read: it keeps the bulkhead in the health registry.
    entry: Option<Arc<Entry>>,
    phase: Phase,
    /// Held from admission to `call`; always `None` for a partitioned
    /// bulkhead, which takes its permit in `call`.
    permit: Option<Permit>,
    /// How long a refused service waited, in waiting mode.
    waited: Option<Duration>,
    /// Kept between waits so that a service allocates it once at most.
    wait: Option<Pin<Box<Wait>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing decided; `call` is not allowed.
    Idle,
    /// Admitted, waiting for the inner service to be ready.
    Admitted,
    /// Admitted and the inner service is ready.
    Ready,
    /// Refused; `call` fails without touching the inner service.
    Refused,
}

impl Gate {
    pub(crate) fn new(shared: Arc<Shared>, entry: Option<Arc<Entry>>) -> Self {
        Gate {
            shared,
            entry,
            phase: Phase::Idle,
            permit: None,
            waited: None,
            wait: None,
        }
    }

    /// A handle on the same bulkhead.
    pub(crate) fn handle(&self) -> BulkheadHandle {
        BulkheadHandle::new(self.shared.clone(), self.entry.clone())
    }

    /// A gate for a clone of the service: the same bulkhead, nothing
    /// reserved.
    pub(crate) fn unreserved(&self) -> Gate {
        Gate::new(self.shared.clone(), self.entry.clone())
    }

    /// Whether the partition key must be read from the request at `call`.
    #[inline]
    pub(crate) fn wants_key(&self) -> bool {
        self.phase == Phase::Ready && self.permit.is_none()
    }

    /// Drives admission, polling the inner service with `poll_inner` only
    /// once admitted.
    #[inline]
    pub(crate) fn poll_ready<E>(
        &mut self,
        cx: &mut Context<'_>,
        poll_inner: impl FnOnce(&mut Context<'_>) -> Poll<Result<(), E>>,
    ) -> Poll<Result<(), E>> {
        // First, admission. A refusal from an earlier poll is tried again:
        // a permit may have freed since.
        if let Phase::Idle | Phase::Refused = self.phase {
            // A partitioned bulkhead admits in `call`: the partition is in
            // the request, which only `call` sees.
            if !self.shared.limiter.is_partitioned() {
                // The common case, a free permit, stays inline; waiting and
                // refusing are out of line.
                let permit = match self.shared.try_acquire(None) {
                    Some(permit) => permit,
                    None => match ready!(self.poll_wait(cx)) {
                        Some(permit) => permit,
                        None => {
                            self.phase = Phase::Refused;
                            return Poll::Ready(Ok(()));
                        }
                    },
                };
                if let Some(wait) = &mut self.wait {
                    wait.as_mut().finish();
                }
                self.permit = Some(permit);
            }
            self.phase = Phase::Admitted;
        }

        // Then the inner service, and only for an admitted request.
        if self.phase == Phase::Admitted {
            if let Err(error) = ready!(poll_inner(cx)) {
                // A service that failed readiness may never be called again;
                // its permit goes back now rather than with the service.
                self.phase = Phase::Idle;
                self.permit = None;
                return Poll::Ready(Err(error));
            }
            self.phase = Phase::Ready;
        }
        Poll::Ready(Ok(()))
    }

    /// Consumes what `poll_ready` decided: a permit for the inner call, or
    /// the refusal. `key` is read only for a partitioned bulkhead.
    ///
    /// # Panics
    ///
    /// When `poll_ready` has not returned `Ready(Ok(()))` since the last
    /// call.
    #[inline]
    pub(crate) fn admit(&mut self, key: Option<&str>) -> Result<Permit, BulkheadFull> {
        let phase = std::mem::replace(&mut self.phase, Phase::Idle);
        match phase {
            Phase::Ready => match self.permit.take() {
                Some(permit) => Ok(permit),
                None => self.admit_partitioned(key),
            },
            Phase::Refused => Err(self.shared.refuse(None, self.waited.take())),
            Phase::Idle | Phase::Admitted => {
                self.permit = None;
                panic!(
                    "bulkhead service called before poll_ready returned Ready(Ok(())); \
                     the tower Service contract requires a successful poll_ready \
                     before each call"
                )
            }
        }
    }

    fn admit_partitioned(&self, key: Option<&str>) -> Result<Permit, BulkheadFull> {
        let partition = key.and_then(|key| self.shared.limiter.find(key));
        match self.shared.try_acquire(partition) {
            Some(permit) => Ok(permit),
            None => Err(self.shared.refuse(partition, None)),
        }
    }

    /// Waits for a permit, in waiting mode; on a refusal, records how long
    /// it waited.
    #[cold]
    #[inline(never)]
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<Option<Permit>> {
        let Some(bound) = self.shared.wait else {
            self.waited = None;
            return Poll::Ready(None);
        };
        let shared = &self.shared;
        let wait = self
            .wait
            .get_or_insert_with(|| Box::pin(Wait::new(shared.clone())));
        loop {
            match wait.as_mut().poll_step(cx, bound) {
                Step::Retry => {}
                Step::Pending => return Poll::Pending,
                Step::TimedOut(waited) => {
                    self.waited = Some(waited);
                    return Poll::Ready(None);
                }
            }
            if let Some(permit) = self.shared.try_acquire(None) {
                return Poll::Ready(Some(permit));
            }
        }
    }
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("bulkhead", &self.shared)
            .field("phase", &self.phase)
            .field("permit", &self.permit)
            .field("waiting", &self.wait)
            .finish()
    }
}

//! A bounded wait for a permit, in waiting mode.
//!
//! A service that finds no permit keeps one of these, boxed because
//! `poll_ready` only has `&mut self` and the timer and the notification must
//! stay pinned. The box is made the first time a service waits and reused by
//! every later wait of that service, so a service that never waits never
//! allocates.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;
use std::task::Context;
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::sync::futures::OwnedNotified;
use tokio::time::{Instant, Sleep};

use crate::shared::Shared;

pin_project! {
    /// One service's wait: a deadline and a registration for wake-ups.
    pub(crate) struct Wait {
        #[pin]
        sleep: Sleep,
        #[pin]
        notified: Option<OwnedNotified>,
        registration: Registration,
    }
}

/// What polling a [`Wait`] asks the caller to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Try for a permit again: the wait just started or a permit was freed.
    Retry,
    /// Nothing changed; the task will be woken.
    Pending,
    /// The bound passed after waiting this long.
    TimedOut(Duration),
}

/// Counts the service among the waiters while a wait is running, and stops
/// counting it when the wait ends or the service is dropped.
struct Registration {
    shared: Arc<Shared>,
    started: Option<Instant>,
}

impl Wait {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Wait {
            sleep: tokio::time::sleep_until(Instant::now()),
            notified: None,
            registration: Registration {
                shared,
                started: None,
            },
        }
    }

    /// Advances the wait of at most `bound`; starts it when none is running.
    pub(crate) fn poll_step(self: Pin<&mut Self>, cx: &mut Context<'_>, bound: Duration) -> Step {
        let mut this = self.project();

        // First, start a wait: register for wake-ups before counting in, and
        // count in before trying again, so a permit freed meanwhile is seen
        // either by the retry or by the releaser.
        let Some(started) = this.registration.started else {
            let now = Instant::now();
            this.sleep.as_mut().reset(now + bound);
            let notify = this.registration.shared.waiters.notify.clone();
            this.notified.set(Some(notify.notified_owned()));
            this.registration.start(now);
            return Step::Retry;
        };

        // Then, a freed permit: register again before the retry, for the
        // same reason.
        if let Some(notified) = this.notified.as_mut().as_pin_mut() {
            if notified.poll(cx).is_ready() {
                let notify = this.registration.shared.waiters.notify.clone();
                this.notified.set(Some(notify.notified_owned()));
                return Step::Retry;
            }
        }

        // Last, the bound.
        if this.sleep.poll(cx).is_pending() {
            return Step::Pending;
        }
        this.notified.set(None);
        this.registration.stop();
        Step::TimedOut(Instant::now().saturating_duration_since(started))
    }

    /// Ends a running wait, after a permit was taken.
    pub(crate) fn finish(self: Pin<&mut Self>) {
        let mut this = self.project();
        if this.registration.started.is_some() {
            this.notified.set(None);
            this.registration.stop();
        }
    }
}

impl Registration {
    fn start(&mut self, now: Instant) {
        self.started = Some(now);
        self.shared.waiters.count.fetch_add(1, Ordering::Relaxed);
        // Pairs with the fence in `Shared::wake_waiters`.
        fence(Ordering::SeqCst);
    }

    fn stop(&mut self) {
        if self.started.take().is_some() {
            self.shared.waiters.count.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("started", &self.registration.started)
            .field("deadline", &self.sleep.deadline())
            .finish()
    }
}

//! The timer that bounds one service's wait for readiness.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::time::{sleep_until, Instant, Sleep};

use crate::limit::instant_after;

/// A wait for readiness, started when the inner service first says
/// `Pending` and ended when it is ready or the limit passes.
///
/// The `Sleep` is boxed because a service is polled through `&mut self`,
/// where a `!Unpin` field cannot be pinned. It is made on the first wait
/// and reset for every later one, so a service allocates once in its life,
/// and only if its inner service ever makes it wait.
#[derive(Debug, Default)]
pub(crate) struct ReadyTimer {
    sleep: Option<Pin<Box<Sleep>>>,
    waiting: bool,
}

impl ReadyTimer {
    /// Ends the current wait, if any; the next one starts afresh.
    pub(crate) fn stop(&mut self) {
        self.waiting = false;
    }

    /// Starts a wait of `limit` unless one is running, and polls it.
    ///
    /// Ready once the limit has passed, which also ends the wait; otherwise
    /// the timer will wake `cx` when it does.
    pub(crate) fn poll_expired(&mut self, limit: Duration, cx: &mut Context<'_>) -> Poll<()> {
        let sleep = match &mut self.sleep {
            Some(sleep) => {
                if !self.waiting {
                    sleep.as_mut().reset(instant_after(Instant::now(), limit));
                }
                sleep
            }
            None => self
                .sleep
                .insert(Box::pin(sleep_until(instant_after(Instant::now(), limit)))),
        };
        self.waiting = true;

        ready!(sleep.as_mut().poll(cx));
        self.waiting = false;
        Poll::Ready(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn poll(timer: &mut ReadyTimer, limit: Duration) -> Poll<()> {
        timer.poll_expired(limit, &mut Context::from_waker(Waker::noop()))
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_runs_from_its_first_poll() {
        let limit = Duration::from_millis(10);
        let mut timer = ReadyTimer::default();
        assert!(poll(&mut timer, limit).is_pending());

        tokio::time::advance(Duration::from_millis(9)).await;
        assert!(poll(&mut timer, limit).is_pending());

        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(poll(&mut timer, limit).is_ready());
    }

    #[tokio::test(start_paused = true)]
    async fn a_stopped_wait_starts_again_from_zero() {
        let limit = Duration::from_millis(10);
        let mut timer = ReadyTimer::default();
        assert!(poll(&mut timer, limit).is_pending());
        tokio::time::advance(Duration::from_millis(8)).await;
        timer.stop();

        assert!(poll(&mut timer, limit).is_pending());
        tokio::time::advance(Duration::from_millis(8)).await;
        assert!(poll(&mut timer, limit).is_pending());
        tokio::time::advance(Duration::from_millis(2)).await;
        assert!(poll(&mut timer, limit).is_ready());

        // An expired wait ends by itself: the next poll starts a new one.
        assert!(poll(&mut timer, limit).is_pending());
    }
}

//! The future of a keyed call that may wait for its key's slot.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use seawall_core::future::Refused;
use seawall_core::BoxError;
use tokio::time::{Instant, Sleep};
use tower_service::Service;

pin_project! {
    /// The future of a [`KeyedRateLimit`](crate::KeyedRateLimit) built to
    /// wait (mode [`Wait`](crate::mode::Wait)): the inner service's
    /// future, a refusal that fails on its first poll, or a request
    /// waiting for its slot.
    ///
    /// A waiting request owns the inner service that was made ready for
    /// it, and calls it when the slot comes; until then the inner service
    /// has not seen the request.
    ///
    /// # Cancel safety
    ///
    /// Dropping a waiting future drops the request and the ready service
    /// without calling it. The slot stays spent: later requests of the
    /// same key were counted after it, and one word cannot hold a hole
    /// (see the crate docs' [keyed waits](crate#keyed-waits)).
    pub struct WaitingFuture<S, Req>
    where
        S: Service<Req>,
    {
        #[pin]
        kind: Kind<S, Req, S::Future>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<S, Req, F> {
        Waiting {
            // Boxed, so that the far more common calls that need no wait
            // carry neither a timer nor a request in their future.
            wait: Pin<Box<Delayed<S, Req>>>,
        },
        Called {
            #[pin]
            future: F,
        },
        Refused {
            error: Refused<BoxError>,
        },
    }
}

pin_project! {
    struct Delayed<S, Req> {
        #[pin]
        timer: Sleep,
        call: Option<(S, Req)>,
    }
}

impl<S, Req> WaitingFuture<S, Req>
where
    S: Service<Req>,
{
    #[inline]
    pub(crate) fn called(future: S::Future) -> Self {
        WaitingFuture {
            kind: Kind::Called { future },
        }
    }

    pub(crate) fn waiting(until: Instant, service: S, request: Req) -> Self {
        WaitingFuture {
            kind: Kind::Waiting {
                wait: Box::pin(Delayed {
                    timer: tokio::time::sleep_until(until),
                    call: Some((service, request)),
                }),
            },
        }
    }

    #[cold]
    pub(crate) fn refused(error: BoxError) -> Self {
        WaitingFuture {
            kind: Kind::Refused {
                error: Refused::new(error),
            },
        }
    }
}

impl<S, Req, T> Future for WaitingFuture<S, Req>
where
    S: Service<Req, Response = T>,
    S::Error: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        loop {
            let future = match kind.as_mut().project() {
                KindProj::Called { future } => return future.poll(cx).map_err(Into::into),
                KindProj::Refused { error } => return Poll::Ready(Err(error.take())),
                KindProj::Waiting { wait } => {
                    let delayed = wait.as_mut().project();
                    ready!(delayed.timer.poll(cx));
                    let (mut service, request) = delayed
                        .call
                        .take()
                        .expect("WaitingFuture polled after completion");
                    // The service was made ready for this request before
                    // it waited; ready stays ready until called.
                    service.call(request)
                }
            };
            kind.set(Kind::Called { future });
        }
    }
}

impl<S, Req> fmt::Debug for WaitingFuture<S, Req>
where
    S: Service<Req>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            Kind::Waiting { .. } => "waiting",
            Kind::Called { .. } => "called",
            Kind::Refused { error } if error.is_pending() => "refused",
            Kind::Refused { .. } => "done",
        };
        f.debug_struct("WaitingFuture")
            .field("state", &state)
            .finish()
    }
}

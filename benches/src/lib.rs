//! Shared pieces of the benches: the baseline service and a way to drive a
//! service whose inner service answers at once without an executor.
//!
//! Driving futures by hand, with a no-op waker inside a runtime context,
//! keeps the executor's own cost out of the figures: what is timed is
//! `poll_ready` + `call` + polling the response future to completion, and
//! nothing else.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tower::service_fn;
use tower::util::ServiceFn;
use tower::Service;

/// The no-middleware baseline: a service that answers at once.
pub type Echo = ServiceFn<fn(u64) -> Ready<Result<u64, Infallible>>>;

/// Builds the baseline service.
pub fn echo() -> Echo {
    service_fn(|n: u64| ready(Ok(n)))
}

/// Makes one call through `service`, which must be ready at once and answer
/// at once (the benches wrap [`echo`], which does).
///
/// # Panics
///
/// Panics if the service is not ready, if its future is pending, or if it
/// fails: each means the bench is measuring something other than the happy
/// path.
pub fn call_now<S, Req>(service: &mut S, request: Req) -> S::Response
where
    S: Service<Req>,
    S::Error: std::fmt::Debug,
{
    let mut cx = Context::from_waker(Waker::noop());
    match service.poll_ready(&mut cx) {
        Poll::Ready(Ok(())) => {}
        Poll::Ready(Err(e)) => panic!("service failed readiness: {e:?}"),
        Poll::Pending => panic!("service was not ready at once"),
    }
    let future = pin!(service.call(request));
    match future.poll(&mut cx) {
        Poll::Ready(Ok(response)) => response,
        Poll::Ready(Err(e)) => panic!("call failed: {e:?}"),
        Poll::Pending => panic!("call did not answer at once"),
    }
}

/// Two threads, each with its own service from `make` (built around one
/// shared layer), call `iters` times each; the figure is the wall time of
/// the slower thread.
///
/// # Panics
///
/// As [`call_now`], and if a bench thread panics.
#[allow(clippy::disallowed_methods)] // a bench measures the wall clock
pub fn two_threads<S>(make: impl Fn() -> S + Sync, iters: u64) -> Duration
where
    S: Service<u64, Response = u64> + Send,
    S::Error: std::fmt::Debug,
{
    let barrier = std::sync::Barrier::new(2);
    let times: Vec<Duration> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let mut service = make();
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..iters {
                        black_box(call_now(&mut service, black_box(i)));
                    }
                    start.elapsed()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a bench thread"))
            .collect()
    });
    times.into_iter().max().unwrap_or_default()
}

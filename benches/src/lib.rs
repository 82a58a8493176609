//! Shared pieces of the benches: the baseline service and a way to drive a
//! service whose inner service answers at once without an executor.
//!
//! Driving futures by hand, with a no-op waker inside a runtime context,
//! keeps the executor's own cost out of the figures: what is timed is
//! `poll_ready` + `call` + polling the response future to completion, and
//! nothing else.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

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

use std::convert::Infallible;
use std::fmt;
use std::task::{Context, Poll};

use http::{Request, Response};
use seawall_core::BoxError;
use tower_service::Service;

use super::mapping::Mapping;
use super::{ErrorResponseLayer, ResponseBody};
use crate::future::ResponseFuture;

/// Answers every error of the inner service with an HTTP response, so that
/// its own error type is [`Infallible`]; see the [module docs](crate::response).
pub struct ErrorResponse<S> {
    inner: S,
    mapping: Mapping,
    state: State,
}

/// What the last `poll_ready` left for the next `call`.
enum State {
    /// No successful `poll_ready` since the last `call`.
    Idle,
    /// The inner service is ready for one call.
    Ready,
    /// The inner service failed `poll_ready`; the next call answers with
    /// this error's response.
    Failed(BoxError),
}

impl<S> ErrorResponse<S> {
    /// Wraps `inner` with the default settings of
    /// [`ErrorResponseLayer::new`].
    pub fn new(inner: S) -> Self {
        tower_layer::Layer::layer(&ErrorResponseLayer::new(), inner)
    }

    pub(crate) fn with_mapping(inner: S, mapping: Mapping) -> Self {
        ErrorResponse {
            inner,
            mapping,
            state: State::Idle,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for ErrorResponse<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResB>>;
    type Error = Infallible;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // A failure already waits to be answered; the inner service is not
        // asked again until that call has happened.
        if matches!(self.state, State::Failed(_)) {
            return Poll::Ready(Ok(()));
        }

        self.state = match self.inner.poll_ready(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(())) => State::Ready,
            Poll::Ready(Err(error)) => State::Failed(error.into()),
        };
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Ready => ResponseFuture::inner(self.inner.call(request), self.mapping),
            State::Failed(error) => ResponseFuture::failed(error, self.mapping),
            State::Idle => panic!(
                "ErrorResponse::call without a successful poll_ready: \
                 the tower Service contract requires poll_ready first"
            ),
        }
    }
}

impl<S: Clone> Clone for ErrorResponse<S> {
    /// The clone starts unreserved: the inner service's readiness, or a
    /// failure waiting to be answered, stays with the original.
    fn clone(&self) -> Self {
        ErrorResponse::with_mapping(self.inner.clone(), self.mapping)
    }
}

impl<S> fmt::Debug for ErrorResponse<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Idle => "idle",
            State::Ready => "ready",
            State::Failed(_) => "failed",
        };
        f.debug_struct("ErrorResponse")
            .field("inner", &std::any::type_name::<S>())
            .field("timeout_status", &self.mapping.timeout_status)
            .field("max_retry_after_secs", &self.mapping.max_retry_after_secs)
            .field("state", &state)
            .finish()
    }
}

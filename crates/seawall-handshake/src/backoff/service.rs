//! The back-off service.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{header, Request, Response};
use seawall_core::names::target;
use seawall_core::BoxError;
use tokio::time::Instant;
use tower_service::Service;

use super::error::UpstreamBackoff;
use super::future::ResponseFuture;
use super::table::Table;

/// Fails calls fast while their upstream's `Retry-After` runs, and
/// remembers every `503` or `429` with a `Retry-After`; built by
/// [`BackoffLayer`](super::BackoffLayer). See the [module docs](super).
pub struct Backoff<S> {
    inner: S,
    table: Arc<Table>,
    ready: bool,
}

impl<S> Backoff<S> {
    pub(crate) fn new(inner: S, table: Arc<Table>) -> Self {
        Backoff {
            inner,
            table,
            ready: false,
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

    /// Consumes the service, returning the inner one.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, ResB> Service<Request<B>> for Backoff<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
{
    type Response = Response<ResB>;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The upstream is not known until `call`, so readiness is the
        // inner service's.
        let poll = self.inner.poll_ready(cx).map_err(Into::into);
        self.ready = matches!(poll, Poll::Ready(Ok(())));
        poll
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        assert!(
            std::mem::take(&mut self.ready),
            "Backoff::call without poll_ready: the tower Service contract requires poll_ready to return Ready(Ok(())) first"
        );

        // A request that names no upstream is never held back.
        let Some(authority) = authority_of(&request) else {
            return ResponseFuture::called(self.inner.call(request), None);
        };
        let key = self.table.key(authority);

        if let Some(retry_after) = self.table.remaining(key, Instant::now()) {
            self.table.refused.increment(1);
            tracing::trace!(
                target: target::HANDSHAKE,
                authority,
                ?retry_after,
                "call refused while the upstream backs off"
            );
            return ResponseFuture::refused(UpstreamBackoff::new(authority, retry_after));
        }

        let recorder = Some((self.table.clone(), key));
        ResponseFuture::called(self.inner.call(request), recorder)
    }
}

impl<S: Clone> Clone for Backoff<S> {
    fn clone(&self) -> Self {
        // A clone starts unready: the readiness belongs to this service.
        Backoff::new(self.inner.clone(), self.table.clone())
    }
}

impl<S> fmt::Debug for Backoff<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backoff")
            .field("capacity", &self.table.capacity())
            .field("ready", &self.ready)
            .finish()
    }
}

/// The upstream a request is for: the URI's authority (absolute-form, as a
/// proxy or a pooled client sends it), else the `Host` header, without any
/// user information.
fn authority_of<B>(request: &Request<B>) -> Option<&str> {
    let named = match request.uri().authority() {
        Some(authority) => authority.as_str(),
        None => request.headers().get(header::HOST)?.to_str().ok()?,
    };
    let host = named.rsplit_once('@').map_or(named, |(_, host)| host);
    (!host.is_empty()).then_some(host)
}

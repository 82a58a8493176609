//! The bulkhead service.

use std::any::type_name;
use std::fmt;
use std::task::{Context, Poll};

use seawall_core::BoxError;
use tower_service::Service;

use crate::future::ResponseFuture;
use crate::gate::Gate;
use crate::key::{NoPartitionKey, PartitionKey};
use crate::layer::BulkheadHandle;

/// Admits at most the bulkhead's `max_in_flight` calls at once, across every
/// service its [`BulkheadLayer`](crate::BulkheadLayer) builds.
///
/// A permit is held from `poll_ready` until the response future completes or
/// is dropped. See the [crate docs](crate) for the modes and partitions.
pub struct Bulkhead<S, K = NoPartitionKey> {
    inner: S,
    key: K,
    gate: Gate,
}

impl<S, K> Bulkhead<S, K> {
    pub(crate) fn from_parts(inner: S, key: K, gate: Gate) -> Self {
        Bulkhead { inner, key, gate }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service, giving back any permit it had reserved.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// A handle to read the bulkhead's occupancy.
    pub fn handle(&self) -> BulkheadHandle {
        self.gate.handle()
    }
}

impl<S, K, Req> Service<Req> for Bulkhead<S, K>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    K: PartitionKey<Req>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let inner = &mut self.inner;
        self.gate
            .poll_ready(cx, |cx| inner.poll_ready(cx))
            .map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        let key = if self.gate.wants_key() {
            self.key.partition_key(&request)
        } else {
            None
        };
        match self.gate.admit(key) {
            Ok(permit) => ResponseFuture::admitted(self.inner.call(request), permit),
            Err(refusal) => ResponseFuture::refused(refusal),
        }
    }
}

impl<S: Clone, K: Clone> Clone for Bulkhead<S, K> {
    /// A clone shares the bulkhead but starts unreserved: a permit reserved
    /// by `poll_ready` belongs to the service that reserved it.
    fn clone(&self) -> Self {
        Bulkhead {
            inner: self.inner.clone(),
            key: self.key.clone(),
            gate: self.gate.unreserved(),
        }
    }
}

impl<S, K> fmt::Debug for Bulkhead<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulkhead")
            .field("inner", &type_name::<S>())
            .field("partition_key", &type_name::<K>())
            .field("gate", &self.gate)
            .finish()
    }
}

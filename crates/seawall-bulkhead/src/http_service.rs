//! The HTTP bulkhead, whose permit covers the response body.

use std::any::type_name;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use seawall_core::BoxError;
use tower_layer::Layer;
use tower_service::Service;

use crate::body::PermitBody;
use crate::future::ResponseFuture;
use crate::gate::Gate;
use crate::key::{NoPartitionKey, PartitionKey};
use crate::layer::{BulkheadHandle, BulkheadLayer};
use crate::service::Bulkhead;
use crate::shared::{Entry, Shared};

/// Applies an [`HttpBulkhead`]; made by [`BulkheadLayer::into_http`].
///
/// It shares its permits with the layer it came from and with every clone
/// of it.
pub struct HttpBulkheadLayer<K = NoPartitionKey> {
    shared: Arc<Shared>,
    entry: Option<Arc<Entry>>,
    key: K,
}

/// A bulkhead for HTTP services that holds each permit until the response
/// body has been sent, not only until the headers are ready.
///
/// Its response is `http::Response<PermitBody<B>>`; the [`PermitBody`] gives
/// the permit back at the end of the stream, on a body error, or when it is
/// dropped. Admission, modes and partitions are those of
/// [`Bulkhead`](crate::Bulkhead).
pub struct HttpBulkhead<S, K = NoPartitionKey> {
    // Admission is the plain bulkhead's; only the response differs.
    bulkhead: Bulkhead<S, K>,
}

pin_project! {
    /// The future of an [`HttpBulkhead`] call; on success it moves the
    /// permit into the response body.
    pub struct HttpResponseFuture<F> {
        #[pin]
        inner: ResponseFuture<F>,
    }
}

impl<K> BulkheadLayer<K> {
    /// Turns this layer into one whose permits last until the response body
    /// ends. The two layers share the same permits.
    pub fn into_http(self) -> HttpBulkheadLayer<K> {
        let (shared, entry, key) = self.into_parts();
        HttpBulkheadLayer { shared, entry, key }
    }
}

impl<K> HttpBulkheadLayer<K> {
    /// A handle to read the bulkhead's occupancy.
    pub fn handle(&self) -> BulkheadHandle {
        BulkheadHandle::new(self.shared.clone(), self.entry.clone())
    }
}

impl<S, K: Clone> Layer<S> for HttpBulkheadLayer<K> {
    type Service = HttpBulkhead<S, K>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpBulkhead {
            bulkhead: Bulkhead::from_parts(
                inner,
                self.key.clone(),
                Gate::new(self.shared.clone(), self.entry.clone()),
            ),
        }
    }
}

impl<S, K> HttpBulkhead<S, K> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        self.bulkhead.get_ref()
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        self.bulkhead.get_mut()
    }

    /// Unwraps the service, giving back any permit it had reserved.
    pub fn into_inner(self) -> S {
        self.bulkhead.into_inner()
    }

    /// A handle to read the bulkhead's occupancy.
    pub fn handle(&self) -> BulkheadHandle {
        self.bulkhead.handle()
    }
}

impl<S, K, Req, B> Service<Req> for HttpBulkhead<S, K>
where
    S: Service<Req, Response = http::Response<B>>,
    S::Error: Into<BoxError>,
    K: PartitionKey<Req>,
{
    type Response = http::Response<PermitBody<B>>;
    type Error = BoxError;
    type Future = HttpResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.bulkhead.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        HttpResponseFuture {
            inner: self.bulkhead.call(request),
        }
    }
}

impl<F, B, E> Future for HttpResponseFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<http::Response<PermitBody<B>>, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // On an error the permit drops here; on a response it moves into
        // the body.
        self.project().inner.poll_then(cx, |output, permit| {
            let permit = permit.take();
            output.map(|response| response.map(|body| PermitBody::new(body, permit)))
        })
    }
}

impl<K: Clone> Clone for HttpBulkheadLayer<K> {
    fn clone(&self) -> Self {
        HttpBulkheadLayer {
            shared: self.shared.clone(),
            entry: self.entry.clone(),
            key: self.key.clone(),
        }
    }
}

impl<S: Clone, K: Clone> Clone for HttpBulkhead<S, K> {
    /// A clone shares the bulkhead but starts unreserved.
    fn clone(&self) -> Self {
        HttpBulkhead {
            bulkhead: self.bulkhead.clone(),
        }
    }
}

impl<K> fmt::Debug for HttpBulkheadLayer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpBulkheadLayer")
            .field("bulkhead", &self.shared)
            .field("partition_key", &type_name::<K>())
            .finish()
    }
}

impl<S, K> fmt::Debug for HttpBulkhead<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HttpBulkhead").field(&self.bulkhead).finish()
    }
}

impl<F> fmt::Debug for HttpResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HttpResponseFuture")
            .field(&self.inner)
            .finish()
    }
}

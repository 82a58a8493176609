//! The layer, which owns the bulkhead, and a handle to read it.

use std::any::type_name;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tower_layer::Layer;

use crate::builder::Builder;
use crate::gate::Gate;
use crate::key::NoPartitionKey;
use crate::service::Bulkhead;
use crate::shared::{Entry, Shared};

/// Applies a [`Bulkhead`] to services; every service it builds draws on the
/// same permits.
///
/// The permits are created when the layer is built, not in
/// [`Layer::layer`], so the limit holds across clones and across the
/// services built for each connection.
///
/// ```
/// use seawall_bulkhead::BulkheadLayer;
/// use tower_layer::Layer;
///
/// let layer = BulkheadLayer::new(2);
/// let a = layer.layer(tower::service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x) }));
/// let b = layer.layer(tower::service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x) }));
/// // `a` and `b` share two permits between them.
/// # let _ = (a, b);
/// ```
pub struct BulkheadLayer<K = NoPartitionKey> {
    shared: Arc<Shared>,
    entry: Option<Arc<Entry>>,
    key: K,
}

/// A read-only view of a bulkhead's occupancy, for tests, dashboards and
/// admin endpoints. Cheap to clone.
#[derive(Clone)]
pub struct BulkheadHandle {
    shared: Arc<Shared>,
    /// Held, never read: it keeps the bulkhead in the health registry.
    _entry: Option<Arc<Entry>>,
}

impl BulkheadLayer {
    /// Starts configuring a bulkhead.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A bulkhead of `max_in_flight` permits that refuses at once when they
    /// are all taken, named `"bulkhead"`.
    ///
    /// # Panics
    ///
    /// When `max_in_flight` is 0; [`builder`](Self::builder) reports that as
    /// an error instead.
    pub fn new(max_in_flight: usize) -> Self {
        match Self::builder().max_in_flight(max_in_flight).build() {
            Ok(layer) => layer,
            Err(error) => panic!("invalid bulkhead: {error}"),
        }
    }
}

impl<K> BulkheadLayer<K> {
    pub(crate) fn from_parts(shared: Arc<Shared>, entry: Option<Arc<Entry>>, key: K) -> Self {
        BulkheadLayer { shared, entry, key }
    }

    /// The bulkhead itself, for the crate's own tests.
    #[cfg(test)]
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    #[cfg(feature = "http")]
    pub(crate) fn into_parts(self) -> (Arc<Shared>, Option<Arc<Entry>>, K) {
        (self.shared, self.entry, self.key)
    }

    /// A handle to read the bulkhead's occupancy.
    pub fn handle(&self) -> BulkheadHandle {
        BulkheadHandle::new(self.shared.clone(), self.entry.clone())
    }
}

impl<S, K: Clone> Layer<S> for BulkheadLayer<K> {
    type Service = Bulkhead<S, K>;

    fn layer(&self, inner: S) -> Self::Service {
        let gate = Gate::new(self.shared.clone(), self.entry.clone());
        Bulkhead::from_parts(inner, self.key.clone(), gate)
    }
}

impl<K: Clone> Clone for BulkheadLayer<K> {
    fn clone(&self) -> Self {
        BulkheadLayer {
            shared: self.shared.clone(),
            entry: self.entry.clone(),
            key: self.key.clone(),
        }
    }
}

impl<K> fmt::Debug for BulkheadLayer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkheadLayer")
            .field("bulkhead", &self.shared)
            .field("partition_key", &type_name::<K>())
            .finish()
    }
}

impl BulkheadHandle {
    pub(crate) fn new(shared: Arc<Shared>, entry: Option<Arc<Entry>>) -> Self {
        BulkheadHandle {
            shared,
            _entry: entry,
        }
    }

    /// The bulkhead's configured name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Permits held now, reserved by a ready service or covering a call.
    pub fn in_flight(&self) -> usize {
        self.shared.limiter.in_flight()
    }

    /// The total number of permits.
    pub fn max_in_flight(&self) -> usize {
        self.shared.limiter.capacity()
    }

    /// Permits the partition named `name` holds now, its reserved and
    /// borrowed ones together; `None` when there is no such partition.
    pub fn partition_in_flight(&self, name: &str) -> Option<usize> {
        let index = self.shared.limiter.find(name)?;
        Some(self.shared.limiter.partition_in_flight(index))
    }

    /// Services waiting for a permit now, in waiting mode.
    pub fn waiting(&self) -> usize {
        self.shared.waiters.count.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for BulkheadHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BulkheadHandle").field(&self.shared).finish()
    }
}

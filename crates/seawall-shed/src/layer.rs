//! The layers, which own the shedder, and a handle to read and steer it.

use std::any::type_name;
use std::fmt;
use std::sync::atomic::Ordering;

use seawall_core::DefaultClassifier;
use tower_layer::Layer;

use crate::back_pressure::BackPressure;
use crate::builder::Builder;
use crate::deadline::IgnoreDeadline;
use crate::lease::Anchor;
use crate::service::Shed;

/// Applies a [`Shed`] to services; every service it builds shares one
/// learned limit, one count of calls in flight and one queue.
///
/// The shedder is created when the layer is built, not in
/// [`Layer::layer`], so the limit holds across clones and across the
/// services axum builds for each connection: `layer` only clones an `Arc`.
///
/// ```
/// use seawall_shed::{limit::Fixed, ShedLayer};
/// use tower_layer::Layer;
///
/// let layer = ShedLayer::builder().algorithm(Fixed::new(2)?).build()?;
/// let a = layer.layer(tower::service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x) }));
/// let b = layer.layer(tower::service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x) }));
/// // `a` and `b` share two slots between them.
/// # let _ = (a, b);
/// # Ok::<(), seawall_core::BoxError>(())
/// ```
pub struct ShedLayer<D = IgnoreDeadline, C = DefaultClassifier> {
    shared: Anchor,
    deadline: D,
    classifier: C,
}

/// Applies a [`BackPressure`] to services; every service it builds shares
/// one learned limit and one line of waiters.
///
/// Built by [`Builder::build_back_pressure`].
pub struct BackPressureLayer<C = DefaultClassifier> {
    shared: Anchor,
    classifier: C,
}

/// A view of a shedder, for tests, dashboards and admin endpoints, and the
/// switch between enforcing and shadow mode. Cheap to clone.
#[derive(Clone)]
pub struct ShedHandle {
    shared: Anchor,
}

impl ShedLayer {
    /// Starts configuring a shedder.
    pub fn builder() -> Builder {
        Builder::new()
    }
}

impl<D, C> ShedLayer<D, C> {
    pub(crate) fn from_parts(shared: Anchor, deadline: D, classifier: C) -> Self {
        ShedLayer {
            shared,
            deadline,
            classifier,
        }
    }

    /// A handle to read and steer the shedder.
    pub fn handle(&self) -> ShedHandle {
        ShedHandle::new(self.shared.clone())
    }
}

impl<S, D: Clone, C: Clone> Layer<S> for ShedLayer<D, C> {
    type Service = Shed<S, D, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Shed::from_parts(
            inner,
            self.shared.clone(),
            self.deadline.clone(),
            self.classifier.clone(),
        )
    }
}

impl<D: Clone, C: Clone> Clone for ShedLayer<D, C> {
    fn clone(&self) -> Self {
        ShedLayer {
            shared: self.shared.clone(),
            deadline: self.deadline.clone(),
            classifier: self.classifier.clone(),
        }
    }
}

impl<D, C> fmt::Debug for ShedLayer<D, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShedLayer")
            .field("shed", &self.shared)
            .field("deadline", &type_name::<D>())
            .field("classifier", &type_name::<C>())
            .finish()
    }
}

impl BackPressureLayer {
    /// Starts configuring a limiter; finish with
    /// [`Builder::build_back_pressure`].
    pub fn builder() -> Builder {
        Builder::new()
    }
}

impl<C> BackPressureLayer<C> {
    pub(crate) fn from_parts(shared: Anchor, classifier: C) -> Self {
        BackPressureLayer { shared, classifier }
    }

    /// A handle to read and steer the limiter.
    pub fn handle(&self) -> ShedHandle {
        ShedHandle::new(self.shared.clone())
    }
}

impl<S, C: Clone> Layer<S> for BackPressureLayer<C> {
    type Service = BackPressure<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        BackPressure::from_parts(inner, self.shared.clone(), self.classifier.clone())
    }
}

impl<C: Clone> Clone for BackPressureLayer<C> {
    fn clone(&self) -> Self {
        BackPressureLayer {
            shared: self.shared.clone(),
            classifier: self.classifier.clone(),
        }
    }
}

impl<C> fmt::Debug for BackPressureLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackPressureLayer")
            .field("shed", &self.shared)
            .field("classifier", &type_name::<C>())
            .finish()
    }
}

impl ShedHandle {
    pub(crate) fn new(shared: Anchor) -> Self {
        ShedHandle { shared }
    }

    /// The shedder's configured name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The concurrency limit now.
    pub fn limit(&self) -> usize {
        self.shared.limiter.limit()
    }

    /// Slots held now: reserved by a ready service or covering a call.
    pub fn in_flight(&self) -> usize {
        self.shared.limiter.in_flight()
    }

    /// Requests waiting in the queue now, or, for back pressure, services
    /// waiting for a slot.
    pub fn queue_len(&self) -> usize {
        self.shared.queue_len()
    }

    /// Requests refused since the shedder was built.
    pub fn shed(&self) -> u64 {
        self.shared.shed.load(Ordering::Relaxed)
    }

    /// Requests admitted over the limit in shadow mode, that enforcing
    /// would have refused or made wait.
    pub fn shadow_shed(&self) -> u64 {
        self.shared.shadow_shed.load(Ordering::Relaxed)
    }

    /// The limit algorithm's name.
    pub fn algorithm(&self) -> &'static str {
        self.shared.limiter.algorithm()
    }

    /// Whether decisions are enforced; `false` in shadow mode.
    pub fn is_enforced(&self) -> bool {
        self.shared.enforced.load(Ordering::Relaxed)
    }

    /// Switches between enforcing (`true`) and shadow mode (`false`) at run
    /// time, for every service of the shedder. Entering shadow mode lets
    /// every waiting request or service through at once.
    pub fn set_enforced(&self, enforced: bool) {
        self.shared.set_enforced(enforced);
    }
}

impl fmt::Debug for ShedHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ShedHandle").field(&self.shared).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::limit::Fixed;
    use crate::ShedLayer;

    #[test]
    fn a_slot_after_another_borrows_the_same_reference() {
        let layer = ShedLayer::builder()
            .name("busy")
            .algorithm(Fixed::new(2).unwrap())
            .build()
            .unwrap();
        let shared = &*layer.shared;
        drop(shared.admit().expect("a free slot"));
        // The layer's and this thread's spare.
        assert_eq!(Arc::strong_count(shared), 2);
        let slot = shared.admit().expect("a free slot");
        assert_eq!(Arc::strong_count(shared), 2, "lent, not cloned");
        drop(slot);
        assert_eq!(Arc::strong_count(shared), 2);
        assert_eq!(shared.limiter.in_flight(), 0);
    }
}

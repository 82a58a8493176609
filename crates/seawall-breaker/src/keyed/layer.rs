use std::fmt;
use std::sync::Arc;

use seawall_core::health::HealthRegistry;
use seawall_core::DefaultClassifier;
use tower_layer::Layer;

use super::config::KeyedBreakerConfig;
use super::handle::KeyedBreakerHandle;
use super::map::BreakerMap;
use super::service::KeyedCircuitBreaker;

/// Wraps services in a [`KeyedCircuitBreaker`]: one breaker per key (the
/// upstream host, the route), all sharing one bounded map.
///
/// The map is made when the layer is, so every service that
/// [`layer`](Layer::layer) builds, and every clone of those, shares it; a
/// key's breaker is built from the configuration's template on the key's
/// first request. See the [crate docs](crate#keyed-breakers) for the
/// eviction rule and an example.
///
/// ```
/// use seawall_breaker::{KeyedBreakerConfig, KeyedCircuitBreakerLayer};
/// use seawall_core::health::HealthRegistry;
///
/// let registry = HealthRegistry::new();
/// let layer = KeyedCircuitBreakerLayer::new(
///     KeyedBreakerConfig::builder().capacity(500).build()?,
///     |request: &(String, u64)| request.0.clone(),
/// )
/// .with_health(&registry);
/// assert_eq!(layer.handle().capacity(), 500);
/// assert_eq!(registry.snapshot().len(), 1);
/// # Ok::<(), seawall_breaker::error::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct KeyedCircuitBreakerLayer<K, C = DefaultClassifier> {
    map: Arc<BreakerMap>,
    extractor: K,
    classifier: C,
}

impl<K> KeyedCircuitBreakerLayer<K> {
    /// A layer holding up to `config.capacity()` keys, each found by
    /// `extractor` (a [`KeyExtractor`](crate::KeyExtractor)), judging
    /// results with [`DefaultClassifier`]. The layer's metrics are
    /// registered now; a key's breaker registers none of its own.
    pub fn new(config: KeyedBreakerConfig, extractor: K) -> Self {
        KeyedCircuitBreakerLayer {
            map: Arc::new(BreakerMap::new(&config)),
            extractor,
            classifier: DefaultClassifier,
        }
    }
}

impl<K, C> KeyedCircuitBreakerLayer<K, C> {
    /// Judges results with `classifier` instead (any
    /// [`Classify`](seawall_core::Classify) for the inner service's
    /// response and error).
    pub fn with_classifier<D>(self, classifier: D) -> KeyedCircuitBreakerLayer<K, D> {
        KeyedCircuitBreakerLayer {
            map: self.map,
            extractor: self.extractor,
            classifier,
        }
    }

    /// Registers the layer in `registry` as one component, however many
    /// keys it holds: kind `"keyed_circuit_breaker"`, named after the
    /// template, critical if the template says so. Status `fail` when
    /// every held key is open, `warn` when some key is open or half-open,
    /// `pass` otherwise; observations `keys`, `capacity`, `open`,
    /// `half_open` and `evictions`. The registry holds it weakly.
    pub fn with_health(self, registry: &HealthRegistry) -> Self {
        self.handle().register_health(registry);
        self
    }

    /// An operator handle to the layer's breakers.
    pub fn handle(&self) -> KeyedBreakerHandle {
        KeyedBreakerHandle::new(self.map.clone())
    }
}

impl<S, K: Clone, C: Clone> Layer<S> for KeyedCircuitBreakerLayer<K, C> {
    type Service = KeyedCircuitBreaker<S, K, C>;

    fn layer(&self, inner: S) -> Self::Service {
        KeyedCircuitBreaker::new(
            inner,
            self.map.clone(),
            self.extractor.clone(),
            self.classifier.clone(),
        )
    }
}

impl<K, C> fmt::Debug for KeyedCircuitBreakerLayer<K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedCircuitBreakerLayer")
            .field("breakers", &self.map)
            .finish_non_exhaustive()
    }
}

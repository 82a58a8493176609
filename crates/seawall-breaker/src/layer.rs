use std::fmt;
use std::sync::Arc;

use seawall_core::health::HealthRegistry;
use seawall_core::DefaultClassifier;
use tower_layer::Layer;

use crate::breaker::Breaker;
use crate::config::BreakerConfig;
use crate::handle::BreakerHandle;
use crate::health::Registered;
use crate::service::CircuitBreaker;

/// Wraps services in a [`CircuitBreaker`] that shares one [`Breaker`].
///
/// The breaker is made when the layer is, so every service that
/// [`layer`](Layer::layer) builds (axum builds one per connection), and every
/// clone of those, counts against the same window and sees the same state.
/// `layer` allocates one small handle per service; cloning a service
/// allocates nothing.
///
/// ```
/// use seawall_breaker::{BreakerConfig, CircuitBreakerLayer};
/// use seawall_core::health::HealthRegistry;
///
/// let registry = HealthRegistry::new();
/// let layer = CircuitBreakerLayer::new(
///     BreakerConfig::builder().name("inventory").critical(true).build()?,
/// )
/// .with_health(&registry);
/// let handle = layer.handle();
/// assert_eq!(registry.snapshot()[0].component().name(), "inventory");
/// assert_eq!(handle.name(), "inventory");
/// # Ok::<(), seawall_breaker::error::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct CircuitBreakerLayer<C = DefaultClassifier> {
    breaker: Arc<Breaker>,
    classifier: C,
    registered: Option<Arc<Registered>>,
}

impl CircuitBreakerLayer {
    /// A layer with a new breaker built from `config` (its metrics are
    /// registered now), judging results with [`DefaultClassifier`].
    pub fn new(config: BreakerConfig) -> Self {
        CircuitBreakerLayer::from_breaker(Arc::new(Breaker::new(&config)))
    }

    /// A layer around an existing breaker, to share it with other layers.
    pub fn from_breaker(breaker: Arc<Breaker>) -> Self {
        CircuitBreakerLayer {
            breaker,
            classifier: DefaultClassifier,
            registered: None,
        }
    }
}

impl<C> CircuitBreakerLayer<C> {
    /// Judges results with `classifier` instead: any
    /// [`Classify`](seawall_core::Classify) for the inner service's response
    /// and error, such as the HTTP classifier of `seawall-http` or a
    /// closure.
    pub fn with_classifier<D>(self, classifier: D) -> CircuitBreakerLayer<D> {
        CircuitBreakerLayer {
            breaker: self.breaker,
            classifier,
            registered: self.registered,
        }
    }

    /// Registers the breaker in `registry`, critical for readiness if its
    /// configuration says so. The registry holds the entry weakly: it goes
    /// when the last of this layer, the services it builds afterwards and
    /// their handles does.
    pub fn with_health(mut self, registry: &HealthRegistry) -> Self {
        let earlier = self.registered.take();
        self.registered = Some(Registered::register(&self.breaker, registry, earlier));
        self
    }

    /// An operator handle to the breaker.
    pub fn handle(&self) -> BreakerHandle {
        BreakerHandle::with_entry(self.breaker.clone(), self.registered.clone())
    }

    /// The shared breaker.
    pub fn breaker(&self) -> &Arc<Breaker> {
        &self.breaker
    }
}

impl<S, C: Clone> Layer<S> for CircuitBreakerLayer<C> {
    type Service = CircuitBreaker<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreaker::from_layer(
            inner,
            self.breaker.clone(),
            self.registered.clone(),
            self.classifier.clone(),
        )
    }
}

impl<C> fmt::Debug for CircuitBreakerLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerLayer")
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

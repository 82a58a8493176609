//! One breaker per key from one layer, in a bounded map.
//!
//! The user-facing story (what a key is, the eviction rule, the metrics,
//! the limitations) is in the [crate docs](crate#keyed-breakers).

mod config;
mod evict;
mod handle;
mod key;
mod layer;
mod map;
mod service;
mod stored;

pub use config::{KeyedBreakerConfig, KeyedBreakerConfigBuilder};
pub use handle::{KeyedBreakerHandle, KEYED_HEALTH_KIND};
#[cfg(feature = "http")]
pub use key::AuthorityKey;
pub use key::KeyExtractor;
pub use layer::KeyedCircuitBreakerLayer;
pub use service::KeyedCircuitBreaker;

//! The keyed layer's validated configuration.

use crate::config::BreakerConfig;
use crate::error::ConfigError;

/// The default number of keys a keyed layer holds.
const DEFAULT_CAPACITY: usize = 1_024;

/// A validated configuration for a
/// [`KeyedCircuitBreakerLayer`](crate::KeyedCircuitBreakerLayer): the
/// template every key's breaker is built from, and how many keys it holds.
///
/// ```
/// use seawall_breaker::{BreakerConfig, KeyedBreakerConfig};
///
/// let config = KeyedBreakerConfig::builder()
///     .template(BreakerConfig::builder().name("upstreams").consecutive_failures(5).build()?)
///     .capacity(10_000)
///     .build()?;
/// assert_eq!((config.name(), config.capacity()), ("upstreams", 10_000));
///
/// let error = KeyedBreakerConfig::builder().capacity(0).build().unwrap_err();
/// assert_eq!(error.field(), "capacity");
/// # Ok::<(), seawall_breaker::error::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedBreakerConfig {
    pub(crate) template: BreakerConfig,
    pub(crate) capacity: usize,
}

/// Collects the keyed layer's settings; [`build`](Self::build) checks them.
///
/// The defaults: the [`BreakerConfig`] defaults as the template, and room
/// for 1,024 keys.
#[derive(Debug, Clone)]
pub struct KeyedBreakerConfigBuilder {
    template: BreakerConfig,
    capacity: usize,
}

impl KeyedBreakerConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> KeyedBreakerConfigBuilder {
        KeyedBreakerConfigBuilder {
            template: BreakerConfig::default(),
            capacity: DEFAULT_CAPACITY,
        }
    }

    /// The configuration every key's breaker is built from, under the
    /// name `<name>/<key>`.
    pub fn template(&self) -> &BreakerConfig {
        &self.template
    }

    /// The layer's name: the template's, the `name` label of its metrics
    /// and its health component's name.
    pub fn name(&self) -> &str {
        self.template.name()
    }

    /// The most keys the layer holds at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl Default for KeyedBreakerConfig {
    fn default() -> Self {
        KeyedBreakerConfig::builder()
            .build()
            .expect("the default settings are valid")
    }
}

impl KeyedBreakerConfigBuilder {
    /// The configuration each key's breaker is built from (`breaker` in the
    /// serde form); its name names the layer.
    pub fn template(mut self, template: BreakerConfig) -> Self {
        self.template = template;
        self
    }

    /// The most keys held at once (`capacity`, at least 1). Each key costs
    /// about 1.8 KB with the default count window of 100 calls (a byte
    /// more per call a count window holds).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Checks the settings and returns the configuration.
    pub fn build(self) -> Result<KeyedBreakerConfig, ConfigError> {
        if self.capacity == 0 {
            return Err(ConfigError::new("capacity", "at least 1", self.capacity));
        }
        Ok(KeyedBreakerConfig {
            template: self.template,
            capacity: self.capacity,
        })
    }
}

#[cfg(feature = "serde")]
mod serde_form {
    //! The serde form: `capacity`, and the template under `breaker` in the
    //! breaker's own form.
    //!
    //! ```toml
    //! capacity = 10000
    //!
    //! [breaker]
    //! name = "upstreams"
    //! consecutive_failures = 5
    //! ```

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{KeyedBreakerConfig, DEFAULT_CAPACITY};
    use crate::config::BreakerConfig;

    #[derive(Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Form {
        capacity: usize,
        breaker: BreakerConfig,
    }

    impl Default for Form {
        fn default() -> Self {
            Form {
                capacity: DEFAULT_CAPACITY,
                breaker: BreakerConfig::default(),
            }
        }
    }

    impl<'de> Deserialize<'de> for KeyedBreakerConfig {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let form = Form::deserialize(deserializer)?;
            KeyedBreakerConfig::builder()
                .template(form.breaker)
                .capacity(form.capacity)
                .build()
                .map_err(D::Error::custom)
        }
    }

    impl Serialize for KeyedBreakerConfig {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            Form {
                capacity: self.capacity,
                breaker: self.template.clone(),
            }
            .serialize(serializer)
        }
    }
}

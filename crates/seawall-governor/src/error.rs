//! Errors: the refusals a request gets, and the one a bad configuration
//! gets.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

pub use seawall_core::rejection::{QuotaPolicy, RateLimited};

/// A keyed layer found no key in a request and is set to refuse such
/// requests ([`MissingKey::Refuse`](crate::MissingKey::Refuse), the
/// default).
///
/// It is not a [`Rejection`](seawall_core::Rejection): the request was not
/// refused for its rate but because the layer could not tell whose it is,
/// which usually means a misconfiguration (no peer address recorded, a
/// proxy header not forwarded). seawall-http answers it as it answers any
/// other error, with a `500`.
///
/// ```
/// use seawall_governor::error::KeyUnavailable;
/// use seawall_core::BoxError;
///
/// fn explain(error: &BoxError) -> &'static str {
///     if error.is::<KeyUnavailable>() {
///         "no client key"
///     } else {
///         "other"
///     }
/// }
/// # let _ = explain;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUnavailable {
    name: Arc<str>,
}

impl KeyUnavailable {
    pub(crate) fn new(name: Arc<str>) -> Self {
        KeyUnavailable { name }
    }

    /// The name of the layer that refused.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for KeyUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no rate limit key in the request for {:?}", self.name)
    }
}

impl Error for KeyUnavailable {}

/// The configuration was invalid; returned by
/// [`Builder::build`](crate::Builder::build),
/// [`KeyedBuilder::build`](crate::KeyedBuilder::build) and
/// [`ActionGovernorBuilder::build`](crate::ActionGovernorBuilder::build).
///
/// [`field`](ConfigError::field) names the setting at fault, and the
/// message says what it allows.
///
/// ```
/// use seawall_governor::{Quota, RateLimitLayer};
///
/// let error = RateLimitLayer::builder().quota(Quota::per_second(0)).build().unwrap_err();
/// assert_eq!(error.field(), "rate");
/// assert_eq!(
///     error.to_string(),
///     "quota \"global\": rate must be at least 1 per period, got 0"
/// );
/// ```
///
/// The fields it names (see [`ConfigError::field`]): `quota`, `rate`,
/// `burst`, `capacity`, `key_quota`, `wait`, `jitter`, or, for an action
/// governor, `limit`, `at_most`, `window`, `fleet_percent` or `fleet_size`.
pub use seawall_core::ConfigError;

//! How a keyed limit finds a request's key.

use std::hash::Hash;

/// Finds the key a request is limited by: a client address, an API key, a
/// tenant, an upstream host.
///
/// Any closure `Fn(&Req) -> Option<K>` is an extractor. A type of your own
/// implements it the same way; this is how an HTTP extractor plugs in:
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use seawall_governor::KeyExtractor;
///
/// struct Request {
///     peer: Option<IpAddr>,
/// }
///
/// /// Limits each client address on its own.
/// #[derive(Clone)]
/// struct ByPeer;
///
/// impl KeyExtractor<Request> for ByPeer {
///     type Key = IpAddr;
///
///     fn extract(&self, request: &Request) -> Option<IpAddr> {
///         request.peer
///     }
/// }
///
/// let client = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// assert_eq!(ByPeer.extract(&Request { peer: Some(client) }), Some(client));
/// let by_closure = |request: &Request| request.peer;
/// assert_eq!(by_closure.extract(&Request { peer: None }), None);
/// ```
///
/// The layer extracts the key once per request, in `call`, then hashes it
/// once to find its state. Finding a key that is already held allocates
/// nothing, so make the key cheap to produce as well: an `IpAddr`, a
/// number, an `http::HeaderValue` (a reference-counted clone of bytes the
/// request already holds) or an `Arc<str>` kept by the extractor. A
/// `String` built from the request allocates on every request.
pub trait KeyExtractor<Req> {
    /// The key. One copy of each key in use is held by the limiter, up to
    /// its capacity: keep it small.
    type Key: Hash + Eq + Clone + Send + Sync + 'static;

    /// The key of `request`, or `None` when it has none; what the layer
    /// does then is its [`MissingKey`] rule.
    fn extract(&self, request: &Req) -> Option<Self::Key>;
}

impl<Req, K, F> KeyExtractor<Req> for F
where
    F: Fn(&Req) -> Option<K>,
    K: Hash + Eq + Clone + Send + Sync + 'static,
{
    type Key = K;

    #[inline]
    fn extract(&self, request: &Req) -> Option<K> {
        self(request)
    }
}

/// What a keyed layer does with a request whose key cannot be found.
///
/// Set with [`KeyedBuilder::on_missing_key`](crate::KeyedBuilder::on_missing_key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MissingKey<K> {
    /// Refuses it with [`KeyUnavailable`](crate::error::KeyUnavailable),
    /// without calling the inner service. The default: a limit that is
    /// skipped whenever the key is missing protects nothing, and a missing
    /// key is usually a misconfiguration (no peer address, a proxy header
    /// not forwarded) that should be loud.
    #[default]
    Refuse,
    /// Lets it past the per-key quota; the layer's global quotas still
    /// apply.
    Allow,
    /// Counts it under this key, shared by every request without one.
    Fallback(K),
}

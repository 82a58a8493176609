use std::fmt;
use std::sync::Arc;

use http::{HeaderName, Request};

use crate::error::ConfigError;

const DEFAULT_MAX_HEADER_LEN: usize = 256;
const LONGEST_MAX_HEADER_LEN: usize = 8 * 1024;
const DEFAULT_MAX_PATH_LEN: usize = 1024;

/// Keys a request by the value of one header, such as an API key.
///
/// The key is the value as sent, if it is one line, not empty, at most
/// `max_len` bytes (256 by default), and printable ASCII (spaces and tabs
/// allowed); anything else is no key, never a truncated or lossy one.
/// Copying the value out allocates once per call.
///
/// ```
/// use http::{HeaderName, Request};
/// use seawall_http::key::HeaderKey;
///
/// let api_key = HeaderKey::new(HeaderName::from_static("x-api-key"));
/// let request = Request::builder().header("x-api-key", "k-123").body(())?;
/// assert_eq!(api_key.key(&request).as_deref(), Some("k-123"));
/// assert_eq!(api_key.key(&Request::new(())), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct HeaderKey {
    name: HeaderName,
    max_len: usize,
}

/// Keys a request by its route: configured path prefixes, or the whole
/// path.
///
/// Both read the URI path as sent, before any routing or normalization, so
/// a limit per route should use [`prefixes`](RouteKey::prefixes): a client
/// can vary a raw path (`/login`, `/login/`, `//login`) to spread itself
/// over many keys. With axum, the matched route pattern is in the
/// request's `MatchedPath` extension; key by it with [`KeyFn`], as in the
/// [module docs](super#axum).
///
/// ```
/// use http::Request;
/// use seawall_http::key::RouteKey;
///
/// let routes = RouteKey::prefixes(["/api/", "/login"])?;
/// let login = Request::get("/login?next=/").body(())?;
/// assert_eq!(routes.key(&login).as_deref(), Some("/login"));
/// let other = Request::get("/loginx").body(())?;
/// assert_eq!(routes.key(&other), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RouteKey {
    kind: RouteKind,
}

#[derive(Clone)]
enum RouteKind {
    Path {
        max_len: usize,
    },
    /// Longest first, so the most specific prefix wins.
    Prefixes(Arc<[Arc<str>]>),
}

/// Keys a request with a closure, for any key the other extractors do not
/// give: a tenant from a verified token, axum's `MatchedPath`, a
/// combination.
///
/// ```
/// use std::net::IpAddr;
/// use http::Request;
/// use seawall_http::key::{KeyFn, PeerIp};
///
/// // The API key when there is one, else the peer address.
/// let peer_ip = PeerIp::new();
/// let tenant = KeyFn::new(move |request: &Request<()>| {
///     match request.headers().get("x-api-key") {
///         Some(key) => Some(format!("key:{}", key.to_str().ok()?)),
///         None => peer_ip.key(request).map(|ip| format!("ip:{ip}")),
///     }
/// });
/// let request = Request::builder().header("x-api-key", "k-1").body(())?;
/// assert_eq!(tenant.key(&request).as_deref(), Some("key:k-1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct KeyFn<F> {
    f: F,
}

impl HeaderKey {
    /// Keys by the header `name`, values at most 256 bytes long.
    pub fn new(name: HeaderName) -> Self {
        HeaderKey {
            name,
            max_len: DEFAULT_MAX_HEADER_LEN,
        }
    }

    /// Keys by the header `name`, values at most `max_len` bytes long.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for `max_len` when it is not in `1..=8192`.
    pub fn with_max_len(name: HeaderName, max_len: usize) -> Result<Self, ConfigError> {
        if !(1..=LONGEST_MAX_HEADER_LEN).contains(&max_len) {
            return Err(ConfigError::new("max_len", "between 1 and 8192"));
        }
        Ok(HeaderKey { name, max_len })
    }

    /// The header read.
    pub fn name(&self) -> &HeaderName {
        &self.name
    }

    /// The key of `request`; see the [type docs](HeaderKey) for when there
    /// is none.
    pub fn key<B>(&self, request: &Request<B>) -> Option<Arc<str>> {
        let mut values = request.headers().get_all(&self.name).iter();
        let value = values.next()?;
        // Two lines are two keys; picking one would let a client choose.
        if values.next().is_some() || value.is_empty() || value.len() > self.max_len {
            return None;
        }
        value.to_str().ok().map(Arc::from)
    }
}

impl RouteKey {
    /// Keys by the whole URI path (no query), if at most 1024 bytes long.
    /// Allocates once per call.
    pub fn path() -> Self {
        RouteKey {
            kind: RouteKind::Path {
                max_len: DEFAULT_MAX_PATH_LEN,
            },
        }
    }

    /// Keys by the longest of `prefixes` that the path starts with, at a
    /// segment boundary: `/api` matches `/api` and `/api/users` but not
    /// `/apis`. A path under none is no key. The key is the configured
    /// prefix, shared, so a call does not allocate.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for `prefixes` when there is none, or one does not
    /// start with `/`.
    pub fn prefixes<I, P>(prefixes: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = P>,
        P: Into<Arc<str>>,
    {
        let mut list: Vec<Arc<str>> = prefixes.into_iter().map(Into::into).collect();
        if list.is_empty() || list.iter().any(|p| !p.starts_with('/')) {
            return Err(ConfigError::new(
                "prefixes",
                "one or more paths, each starting with '/'",
            ));
        }
        list.sort_by_key(|p| std::cmp::Reverse(p.len()));
        Ok(RouteKey {
            kind: RouteKind::Prefixes(list.into()),
        })
    }

    /// The key of `request`; see [`path`](RouteKey::path) and
    /// [`prefixes`](RouteKey::prefixes).
    pub fn key<B>(&self, request: &Request<B>) -> Option<Arc<str>> {
        let path = request.uri().path();
        match &self.kind {
            RouteKind::Path { max_len } => (path.len() <= *max_len).then(|| Arc::from(path)),
            RouteKind::Prefixes(list) => list
                .iter()
                .find(|prefix| under(path, prefix))
                .map(Arc::clone),
        }
    }
}

impl<F> KeyFn<F> {
    /// Keys by what `f` returns.
    pub fn new(f: F) -> Self {
        KeyFn { f }
    }

    /// The key of `request`: `f(request)`.
    pub fn key<B, K>(&self, request: &Request<B>) -> Option<K>
    where
        F: Fn(&Request<B>) -> Option<K>,
    {
        (self.f)(request)
    }
}

/// Whether `path` is `prefix` or a path below it.
fn under(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/'),
        None => false,
    }
}

impl fmt::Debug for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RouteKind::Path { max_len } => f
                .debug_struct("RouteKey::Path")
                .field("max_len", max_len)
                .finish(),
            RouteKind::Prefixes(list) => f.debug_tuple("RouteKey::Prefixes").field(list).finish(),
        }
    }
}

impl<F> fmt::Debug for KeyFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFn")
            .field("f", &std::any::type_name::<F>())
            .finish()
    }
}

//! How a keyed layer finds a request's key.

use std::borrow::Cow;

/// Finds the key of a request: the upstream host, the route, or whatever
/// should get a breaker of its own.
///
/// A closure `Fn(&Request) -> T` is a key extractor when `T` turns into a
/// `Cow<'static, str>` (a `String` or a `&'static str`). A closure cannot
/// hand back a string borrowed from the request; implement the trait for a
/// type of your own to do that, so that finding an existing key allocates
/// nothing:
///
/// ```
/// use std::borrow::Cow;
/// use seawall_breaker::KeyExtractor;
///
/// struct Call {
///     host: String,
/// }
///
/// #[derive(Clone)]
/// struct ByHost;
///
/// impl KeyExtractor<Call> for ByHost {
///     fn key<'a>(&self, call: &'a Call) -> Cow<'a, str> {
///         Cow::Borrowed(&call.host)
///     }
/// }
///
/// let call = Call { host: "db.internal".to_owned() };
/// assert_eq!(ByHost.key(&call), "db.internal");
/// let by_closure = |call: &Call| call.host.clone();
/// assert_eq!(by_closure.key(&call), "db.internal");
/// ```
pub trait KeyExtractor<Request> {
    /// The key of `request`, borrowed from it where possible.
    fn key<'a>(&self, request: &'a Request) -> Cow<'a, str>;
}

impl<F, Request, T> KeyExtractor<Request> for F
where
    F: Fn(&Request) -> T,
    T: Into<Cow<'static, str>>,
{
    fn key<'a>(&self, request: &'a Request) -> Cow<'a, str> {
        self(request).into()
    }
}

/// Keys an `http::Request` by the authority it is sent to: the URI's
/// authority (`host:port`, without any `user:password@`), or the `Host`
/// header when the URI has none (as on the server side of HTTP/1.1), or
/// the empty key when neither is there. Borrowed from the request, so
/// finding a known host allocates nothing.
///
/// Keys are compared as written: `Example.com` and `example.com` are two
/// keys, and so are `example.com` and `example.com:443`.
///
/// ```
/// use seawall_breaker::{AuthorityKey, KeyExtractor};
///
/// let request = http::Request::get("https://user:secret@api.example.com:8443/v1").body(())?;
/// assert_eq!(AuthorityKey.key(&request), "api.example.com:8443");
///
/// let request = http::Request::get("/v1").header("host", "api.example.com").body(())?;
/// assert_eq!(AuthorityKey.key(&request), "api.example.com");
/// # Ok::<(), http::Error>(())
/// ```
#[cfg(feature = "http")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthorityKey;

#[cfg(feature = "http")]
impl<B> KeyExtractor<http::Request<B>> for AuthorityKey {
    fn key<'a>(&self, request: &'a http::Request<B>) -> Cow<'a, str> {
        let authority = match request.uri().authority() {
            Some(authority) => authority.as_str(),
            None => request
                .headers()
                .get(http::header::HOST)
                .and_then(|host| host.to_str().ok())
                .unwrap_or(""),
        };
        // Credentials must not become part of a breaker's name.
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        Cow::Borrowed(host)
    }
}

//! Who is asking: keys for rate limits per client, per API key, per route.
//!
//! A keyed rate limit is only as good as its key. Each extractor here is a
//! small `Clone + Send + Sync` value with a method
//! `key(&self, &http::Request<B>) -> Option<K>`; `None` means the request
//! has no key, and the limiter decides what such a request gets (none of
//! these ever panics on what a client sends).
//!
//! | extractor | key | allocates |
//! |---|---|---|
//! | [`ClientIp`] | the client's IP behind trusted proxies | no |
//! | [`PeerIp`] | the connection's IP, headers ignored | no |
//! | [`HeaderKey`] | one header's value, such as an API key (`Arc<str>`) | yes, one copy |
//! | [`RouteKey`] | a configured path prefix, or the whole path (`Arc<str>`) | prefixes: no; path: one copy |
//! | [`KeyFn`] | whatever a closure returns | as the closure does |
//!
//! IP keys cut IPv6 addresses to their `/64` by default: one host commonly
//! holds a whole `/64`, and keying by the full address would give it
//! 2^64 quotas. [`ClientIp::client_ip`] gives the whole address.
//!
//! # Peer address
//!
//! The peer is the other end of the TCP connection, which only the server
//! knows. The extractors find it in the request's extensions as a
//! [`PeerAddr`], or as a bare [`SocketAddr`](std::net::SocketAddr); with
//! neither, an IP key is `None`.
//!
//! - **hyper**: insert `PeerAddr(remote_addr)` into each request in the
//!   service made per accepted connection.
//! - **axum**: serve with `into_make_service_with_connect_info::<SocketAddr>()`,
//!   which puts axum's `ConnectInfo<SocketAddr>` in the extensions, and
//!   copy it into a `PeerAddr` with a small `map_request` middleware. This
//!   crate does not depend on axum, so it cannot read `ConnectInfo` itself.
//!
//! # axum
//!
//! ```
//! use std::net::SocketAddr;
//! use axum::body::Body;
//! use axum::extract::{ConnectInfo, MatchedPath, Request};
//! use axum::middleware::map_request;
//! use axum::routing::get;
//! use axum::Router;
//! use http_body_util::BodyExt;
//! use seawall_http::key::{ClientIp, KeyFn, PeerAddr};
//! use tower::ServiceExt;
//!
//! async fn copy_peer_addr(mut request: Request) -> Request {
//!     let connect_info = request.extensions().get::<ConnectInfo<SocketAddr>>();
//!     if let Some(&ConnectInfo(addr)) = connect_info {
//!         request.extensions_mut().insert(PeerAddr(addr));
//!     }
//!     request
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let client_ip = ClientIp::new("10.0.0.0/8".parse()?);
//! let route = KeyFn::new(|request: &Request| {
//!     request.extensions().get::<MatchedPath>().map(|path| path.as_str().to_owned())
//! });
//! let app = Router::new()
//!     .route("/users/{id}", get(move |request: Request| async move {
//!         let ip = client_ip.client_ip(&request).unwrap();
//!         format!("{ip} on {}", route.key(&request).unwrap())
//!     }))
//!     .layer(map_request(copy_peer_addr));
//!
//! // Served for real with:
//! // axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
//! let _ = app.clone().into_make_service_with_connect_info::<SocketAddr>();
//!
//! // Here, the connection info a server would add is added by hand.
//! let mut request = Request::get("/users/7")
//!     .header("x-forwarded-for", "203.0.113.9, 10.0.0.2")
//!     .body(Body::empty())?;
//! let proxy: SocketAddr = "10.0.0.1:41000".parse()?;
//! request.extensions_mut().insert(ConnectInfo(proxy));
//!
//! let response = app.oneshot(request).await?;
//! let body = response.into_body().collect().await?.to_bytes();
//! assert_eq!(body, "203.0.113.9 on /users/{id}");
//! # Ok(())
//! # }
//! ```
//!
//! # Client IP
//!
//! Behind a reverse proxy the peer is the proxy, and the client is named
//! in a header that each proxy appends to. A client can send that header
//! too, with any address in it, so [`ClientIp`] believes only what
//! [`TrustedProxies`] wrote:
//!
//! 1. If the peer is not a trusted proxy, the client is the peer, and no
//!    header is read. A client talking to the server directly cannot
//!    choose its key.
//! 2. Otherwise the entries are walked from the right (the last header
//!    line's last entry first): each was appended by the hop to its
//!    right, which is trusted so far. An entry that is a trusted proxy
//!    moves the walk one hop left; the first entry that is not is the
//!    client. Entries left of it were written by the client and are never
//!    read, so prepending fake entries changes nothing.
//! 3. If the entries run out and every one was trusted, the client is the
//!    leftmost one (a request from inside the trusted networks).
//! 4. An entry that names no address (`unknown`, an obfuscated `_abc`, a
//!    `Forwarded` element without `for`, garbage, non-UTF-8), or running
//!    past the walk's limits, stops the walk: by default the client is the
//!    last trusted proxy walked, the nearest hop whose address is known
//!    ([`OpaqueHop::UseLastProxy`]); with [`OpaqueHop::NoKey`] there is no
//!    key.
//!
//! ```
//! use std::net::IpAddr;
//! use http::HeaderMap;
//! use seawall_http::key::ClientIp;
//!
//! let client_ip = ClientIp::new("10.0.0.0/8".parse()?);
//! let headers = |xff: &'static str| {
//!     let mut headers = HeaderMap::new();
//!     headers.insert("x-forwarded-for", xff.parse().unwrap());
//!     headers
//! };
//! let ip = |s: &str| s.parse::<IpAddr>().unwrap();
//!
//! // Through two of our proxies: the client is the first untrusted entry.
//! let chain = headers("198.51.100.1, 203.0.113.9, 10.0.0.2");
//! assert_eq!(client_ip.resolve(ip("10.0.0.1"), &chain), Some(ip("203.0.113.9")));
//!
//! // From the internet directly: the header is the client's own, ignored.
//! let forged = headers("10.0.0.3");
//! assert_eq!(client_ip.resolve(ip("203.0.113.50"), &forged), Some(ip("203.0.113.50")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Header syntax
//!
//! [`ForwardedHeader`] picks the header: `X-Forwarded-For` (the default),
//! RFC 7239 `Forwarded`, either with a precedence, or another header in
//! `X-Forwarded-For`'s syntax. Every line of the header is read, in order,
//! as one list. An entry may be an IPv4 or IPv6 address, bracketed or not,
//! with a port (`192.0.2.1:8080`, `[2001:db8::1]:443`) or an obfuscated
//! port (`:_p1`); an IPv6 zone (`fe80::1%eth0`) is dropped and an
//! IPv4-mapped IPv6 address is read as IPv4. In `Forwarded`, parameter
//! names are matched in any case and a quoted value is unquoted.
//!
//! Lists are split on every comma, and `Forwarded` elements on every
//! semicolon, even inside quotes: no address holds either, and a
//! quote-aware split would let a client's unterminated `"` swallow the
//! entries proxies append after it. Empty elements are skipped.
//!
//! ## Cost
//!
//! The walk allocates nothing, reads at most 8 KiB of header value from
//! the right and visits at most 64 entries (both configurable in
//! [`ClientIpBuilder`]), and looks at nothing left of the client's entry:
//! a 10 kB header costs about as much as a short one.
//!
//! # Limitations
//!
//! - Only the proxies' networks are checked, not which header each proxy
//!   writes: reading a header that a trusted proxy passes through
//!   untouched lets clients behind it choose their key. Read the one your
//!   proxies write; see [`ForwardedHeader::PreferForwarded`].
//! - Any host inside a trusted network is believed; trust proxy subnets,
//!   not whole private ranges that also hold clients.
//! - axum's `ConnectInfo` must be copied into [`PeerAddr`] by a middleware;
//!   without it, IP keys are `None`.
//! - [`RouteKey`] reads the raw path, before routing and normalization.
//! - IPv6 zones are dropped, so link-local clients on two interfaces of a
//!   proxy share a key.

mod client_ip;
mod extract;
mod ip_net;
mod node;
mod peer;
mod trusted;
mod walk;

pub use client_ip::{ClientIp, ClientIpBuilder, ForwardedHeader, OpaqueHop};
pub use extract::{HeaderKey, KeyFn, RouteKey};
pub use ip_net::{IpNet, ParseIpNetError};
pub use peer::{PeerAddr, PeerIp};
pub use trusted::TrustedProxies;

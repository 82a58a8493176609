use std::net::{IpAddr, SocketAddr};

use http::{Extensions, Request};

use super::ip_net;
use crate::error::ConfigError;

/// The address of the connection a request came in on, as a request
/// extension.
///
/// The server puts it there; nothing in the request can forge it. A hyper
/// server inserts it per connection (or inserts a bare [`SocketAddr`],
/// which is read too); an axum server copies axum's `ConnectInfo` into it
/// with a one-line middleware, shown in the [module docs](super#axum).
///
/// ```
/// use std::net::SocketAddr;
/// use http::Request;
/// use seawall_http::key::PeerAddr;
///
/// let peer: SocketAddr = "192.0.2.7:52000".parse()?;
/// let mut request = Request::new(());
/// request.extensions_mut().insert(PeerAddr(peer));
/// assert_eq!(PeerAddr::from_request(&request), Some(PeerAddr(peer)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub SocketAddr);

/// Keys a request by its peer's IP address, ignoring every header.
///
/// Right for a server that clients reach directly. Behind a proxy every
/// request would share the proxy's key: use [`ClientIp`](super::ClientIp).
///
/// IPv6 keys are cut to their first 64 bits by default, because one host
/// commonly holds a whole `/64` and could otherwise take a fresh key per
/// request; see [`with_ipv6_prefix`](PeerIp::with_ipv6_prefix).
///
/// ```
/// use std::net::{IpAddr, SocketAddr};
/// use http::Request;
/// use seawall_http::key::{PeerAddr, PeerIp};
///
/// let mut request = Request::builder()
///     .header("x-forwarded-for", "203.0.113.9")
///     .body(())?;
/// request.extensions_mut().insert(PeerAddr("192.0.2.7:52000".parse()?));
/// assert_eq!(PeerIp::new().key(&request), Some("192.0.2.7".parse::<IpAddr>()?));
///
/// let mut v6 = Request::new(());
/// v6.extensions_mut().insert("[2001:db8:1:2:3:4:5:6]:443".parse::<SocketAddr>()?);
/// assert_eq!(PeerIp::new().key(&v6), Some("2001:db8:1:2::".parse::<IpAddr>()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerIp {
    ipv6_prefix: u8,
}

impl PeerAddr {
    /// The peer address in `extensions`: a [`PeerAddr`], else a bare
    /// [`SocketAddr`].
    pub fn from_extensions(extensions: &Extensions) -> Option<PeerAddr> {
        let peer = extensions.get::<PeerAddr>().copied();
        peer.or_else(|| extensions.get::<SocketAddr>().copied().map(PeerAddr))
    }

    /// The peer address of `request`; see
    /// [`from_extensions`](PeerAddr::from_extensions).
    pub fn from_request<B>(request: &Request<B>) -> Option<PeerAddr> {
        PeerAddr::from_extensions(request.extensions())
    }

    /// The peer's IP address, an IPv4-mapped IPv6 address (as a dual-stack
    /// listener reports IPv4 peers) turned into IPv4.
    pub fn ip(&self) -> IpAddr {
        self.0.ip().to_canonical()
    }
}

impl From<SocketAddr> for PeerAddr {
    fn from(addr: SocketAddr) -> Self {
        PeerAddr(addr)
    }
}

impl PeerIp {
    /// Keys by the peer's IP address, IPv6 cut to its `/64`.
    pub fn new() -> Self {
        PeerIp { ipv6_prefix: 64 }
    }

    /// Keys IPv6 peers by their first `prefix_len` bits: 128 keeps the
    /// whole address. IPv4 addresses are always whole.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for `ipv6_prefix` when `prefix_len` is not in
    /// `1..=128`.
    pub fn with_ipv6_prefix(prefix_len: u8) -> Result<Self, ConfigError> {
        check_ipv6_prefix(prefix_len)?;
        Ok(PeerIp {
            ipv6_prefix: prefix_len,
        })
    }

    /// The key of `request`: its peer's IP address, or `None` when no
    /// [`PeerAddr`] (or `SocketAddr`) is in its extensions.
    pub fn key<B>(&self, request: &Request<B>) -> Option<IpAddr> {
        let ip = PeerAddr::from_request(request)?.ip();
        Some(ipv6_key(ip, self.ipv6_prefix))
    }
}

impl Default for PeerIp {
    fn default() -> Self {
        PeerIp::new()
    }
}

pub(crate) fn check_ipv6_prefix(prefix_len: u8) -> Result<(), ConfigError> {
    if (1..=128).contains(&prefix_len) {
        Ok(())
    } else {
        Err(ConfigError::new("ipv6_prefix", "between 1 and 128"))
    }
}

/// `ip` as a key: IPv6 cut to `prefix_len` bits, IPv4 whole.
pub(crate) fn ipv6_key(ip: IpAddr, prefix_len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(_) => ip_net::mask(ip, prefix_len),
    }
}

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

use super::{IpNet, ParseIpNetError};

/// The networks of the proxies whose forwarding headers are believed.
///
/// A request's forwarding header is only as honest as the proxy that added
/// its last entry, so [`ClientIp`](super::ClientIp) reads it only when the
/// connection comes from one of these networks, and only as far back as
/// the entries these networks added. Keep the list to the proxies you run
/// (a load balancer's subnet, a CDN's published ranges): any host inside it
/// can name any client.
///
/// Cheap to clone: the list is shared.
///
/// ```
/// use std::net::IpAddr;
/// use seawall_http::key::TrustedProxies;
///
/// let proxies: TrustedProxies = "10.0.0.0/8, 2001:db8::/32, 127.0.0.1".parse()?;
/// assert!(proxies.contains("10.1.2.3".parse::<IpAddr>()?));
/// assert!(proxies.contains("::ffff:127.0.0.1".parse::<IpAddr>()?));
/// assert!(!proxies.contains("192.0.2.1".parse::<IpAddr>()?));
///
/// assert!(TrustedProxies::none().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Arc<[IpNet]>,
}

impl TrustedProxies {
    /// Trusts no proxy: every forwarding header is ignored and the client
    /// is the peer.
    pub fn none() -> Self {
        TrustedProxies {
            networks: Arc::from([]),
        }
    }

    /// Trusts the given networks.
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        TrustedProxies {
            networks: networks.into_iter().collect(),
        }
    }

    /// Whether `ip` is in one of the networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|net| net.contains(ip))
    }

    /// The networks, in the order given.
    pub fn networks(&self) -> &[IpNet] {
        &self.networks
    }

    /// Whether no network is trusted.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }
}

impl Default for TrustedProxies {
    /// The same as [`TrustedProxies::none`].
    fn default() -> Self {
        TrustedProxies::none()
    }
}

impl FromStr for TrustedProxies {
    type Err = ParseIpNetError;

    /// Parses networks separated by commas or whitespace, as an environment
    /// variable would hold them; an empty string trusts none.
    fn from_str(text: &str) -> Result<Self, ParseIpNetError> {
        let networks = text
            .split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|part| !part.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<IpNet>, _>>()?;
        Ok(TrustedProxies::new(networks))
    }
}

impl FromIterator<IpNet> for TrustedProxies {
    fn from_iter<I: IntoIterator<Item = IpNet>>(networks: I) -> Self {
        TrustedProxies::new(networks)
    }
}

impl fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.networks.iter()).finish()
    }
}

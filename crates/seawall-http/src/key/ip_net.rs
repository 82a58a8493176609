use std::error::Error;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IP network in CIDR notation: an address and a prefix length, such as
/// `10.0.0.0/8` or `2001:db8::/32`.
///
/// Parsed with [`str::parse`]. A bare address is a network of one
/// (`/32` or `/128`). The prefix length is checked (at most 32 for IPv4,
/// 128 for IPv6), and an address with bits set past the prefix is refused,
/// because `10.1.2.3/8` is more often a typo than a network.
///
/// IPv4 and IPv4-mapped IPv6 (`::ffff:10.1.2.3`) are the same host:
/// `10.0.0.0/8` contains `::ffff:10.1.2.3`, and `::ffff:10.0.0.0/104`
/// contains `10.1.2.3`.
///
/// ```
/// use std::net::IpAddr;
/// use seawall_http::key::IpNet;
///
/// let net: IpNet = "10.0.0.0/8".parse()?;
/// assert!(net.contains("10.200.0.1".parse::<IpAddr>()?));
/// assert!(!net.contains("11.0.0.1".parse::<IpAddr>()?));
///
/// let v6: IpNet = "2001:db8::/32".parse()?;
/// assert_eq!(v6.prefix_len(), 32);
/// assert!("10.0.0.0/33".parse::<IpNet>().is_err());
/// assert!("10.0.0.1/8".parse::<IpNet>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix_len: u8,
}

/// A string that is not an IP network in CIDR notation; see [`IpNet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIpNetError {
    kind: ParseKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParseKind {
    Address,
    PrefixLen,
    PrefixTooLong { max: u8 },
    HostBits,
}

impl IpNet {
    /// The network of `prefix_len` leading bits of `addr`, or `None` when
    /// the length is too long for the address family or `addr` has bits set
    /// past it.
    pub fn new(addr: IpAddr, prefix_len: u8) -> Option<IpNet> {
        let net = IpNet { addr, prefix_len };
        let fits = prefix_len <= max_len(addr) && net.network() == addr;
        fits.then_some(net)
    }

    /// The first address of the network.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// How many leading bits are fixed.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `ip` is in this network; see the [type docs](IpNet) for
    /// IPv4-mapped addresses.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix_v4(net, ip, self.prefix_len),
            (IpAddr::V6(net), IpAddr::V6(ip)) => same_prefix_v6(net, ip, self.prefix_len),
            (IpAddr::V6(net), IpAddr::V4(ip)) => {
                same_prefix_v6(net, ip.to_ipv6_mapped(), self.prefix_len)
            }
            (IpAddr::V4(net), IpAddr::V6(ip)) => match ip.to_ipv4_mapped() {
                Some(ip) => same_prefix_v4(net, ip, self.prefix_len),
                None => false,
            },
        }
    }

    /// `addr` with the bits past the prefix cleared.
    fn network(&self) -> IpAddr {
        mask(self.addr, self.prefix_len)
    }
}

/// `ip` with every bit past the first `prefix_len` cleared (a length past
/// the family's width keeps every bit).
pub(crate) fn mask(ip: IpAddr, prefix_len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4) & v4_mask(prefix_len);
            IpAddr::V4(Ipv4Addr::from(bits))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & v6_mask(prefix_len);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

impl FromStr for IpNet {
    type Err = ParseIpNetError;

    fn from_str(text: &str) -> Result<IpNet, ParseIpNetError> {
        let error = |kind| ParseIpNetError { kind };
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| error(ParseKind::Address))?;
        let max = max_len(addr);
        let prefix_len = match len {
            None => max,
            Some(len) => parse_len(len).ok_or(error(ParseKind::PrefixLen))?,
        };
        if prefix_len > max {
            return Err(error(ParseKind::PrefixTooLong { max }));
        }
        IpNet::new(addr, prefix_len).ok_or(error(ParseKind::HostBits))
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl fmt::Debug for IpNet {
    /// The CIDR notation, as `Display` writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ParseIpNetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ParseKind::Address => f.write_str("invalid IP network: not an IP address"),
            ParseKind::PrefixLen => f.write_str("invalid IP network: prefix length is not 0..=128"),
            ParseKind::PrefixTooLong { max } => {
                write!(f, "invalid IP network: prefix length longer than {max}")
            }
            ParseKind::HostBits => {
                f.write_str("invalid IP network: address has bits set past the prefix")
            }
        }
    }
}

impl Error for ParseIpNetError {}

fn max_len(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// One to three ASCII digits, at most 128: no sign, no spaces.
fn parse_len(text: &str) -> Option<u8> {
    let digits = !text.is_empty() && text.len() <= 3 && text.bytes().all(|b| b.is_ascii_digit());
    let len: u8 = if digits {
        text.parse().ok()?
    } else {
        return None;
    };
    (len <= 128).then_some(len)
}

fn v4_mask(prefix_len: u8) -> u32 {
    match prefix_len {
        0 => 0,
        len if len >= 32 => u32::MAX,
        len => u32::MAX << (32 - len),
    }
}

fn v6_mask(prefix_len: u8) -> u128 {
    match prefix_len {
        0 => 0,
        len if len >= 128 => u128::MAX,
        len => u128::MAX << (128 - len),
    }
}

fn same_prefix_v4(net: Ipv4Addr, ip: Ipv4Addr, prefix_len: u8) -> bool {
    (u32::from(net) ^ u32::from(ip)) & v4_mask(prefix_len) == 0
}

fn same_prefix_v6(net: Ipv6Addr, ip: Ipv6Addr, prefix_len: u8) -> bool {
    (u128::from(net) ^ u128::from(ip)) & v6_mask(prefix_len) == 0
}

use std::net::IpAddr;
use std::ops::ControlFlow;

use http::{HeaderMap, HeaderName, Request};
use seawall_core::names::target;

use super::node::Hop;
use super::peer::{check_ipv6_prefix, ipv6_key};
use super::walk::{self, End, Syntax};
use super::{PeerAddr, TrustedProxies};
use crate::error::ConfigError;

// Statics, not the `http` constants: the walk borrows the name.
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static FORWARDED: HeaderName = HeaderName::from_static("forwarded");
const DEFAULT_MAX_ENTRIES: usize = 64;
const DEFAULT_MAX_HEADER_BYTES: usize = 8 * 1024;

/// Finds the client's IP address behind trusted proxies; see the
/// [module docs](super#client-ip) for the rule.
///
/// Build it with [`new`](ClientIp::new) for the defaults (read
/// `X-Forwarded-For`, walk at most 64 entries and 8 KiB) or with
/// [`builder`](ClientIp::builder). Cheap to clone.
#[derive(Debug, Clone)]
pub struct ClientIp {
    trusted: TrustedProxies,
    header: ForwardedHeader,
    max_entries: usize,
    max_header_bytes: usize,
    on_opaque: OpaqueHop,
    ipv6_prefix: u8,
}

/// Builds a [`ClientIp`] with other settings than the defaults.
///
/// ```
/// use seawall_http::key::{ClientIp, ForwardedHeader, OpaqueHop};
///
/// let client_ip = ClientIp::builder("10.0.0.0/8".parse()?)
///     .header(ForwardedHeader::Forwarded)
///     .on_opaque(OpaqueHop::NoKey)
///     .max_entries(16)
///     .build()?;
/// # let _ = client_ip;
///
/// let wrong = ClientIp::builder("10.0.0.0/8".parse()?).max_header_bytes(0).build();
/// assert_eq!(wrong.unwrap_err().field(), "max_header_bytes");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientIpBuilder {
    client_ip: ClientIp,
}

/// Which forwarding header [`ClientIp`] reads.
///
/// Read only the header your proxies write. A client can send any header
/// itself; what makes one trustworthy is that each trusted proxy appends
/// to it (or overwrites it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: <client>, <proxy1>, <proxy2>` (the default).
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=<client>, for=<proxy1>`.
    Forwarded,
    /// `Forwarded` when the request has one, else `X-Forwarded-For`.
    ///
    /// Safe only when every trusted proxy writes `Forwarded`: if one writes
    /// only `X-Forwarded-For`, a client's own `Forwarded` header is read
    /// instead and names whoever it likes.
    PreferForwarded,
    /// `X-Forwarded-For` when the request has one, else `Forwarded`; the
    /// same caveat the other way round.
    PreferXForwardedFor,
    /// Another header with `X-Forwarded-For`'s list syntax, such as
    /// `X-Real-IP` or `CF-Connecting-IP`, which a proxy overwrites with the
    /// address it saw.
    List(HeaderName),
}

/// What [`ClientIp`] does when, walking back through trusted proxies, it
/// reaches an entry that names no address: `unknown`, an obfuscated
/// identifier (`_abc`), a `Forwarded` element without `for`, garbage, or
/// the end of its entry or byte budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OpaqueHop {
    /// The client is the last trusted proxy walked: the nearest hop whose
    /// address is known. Every client behind it shares its key, so the
    /// limit is tighter, never looser (the default).
    #[default]
    UseLastProxy,
    /// No key: the limiter's answer for a request without a key applies.
    NoKey,
}

impl ClientIp {
    /// Reads `X-Forwarded-For` through `trusted` with the default limits.
    pub fn new(trusted: TrustedProxies) -> Self {
        ClientIp {
            trusted,
            header: ForwardedHeader::XForwardedFor,
            max_entries: DEFAULT_MAX_ENTRIES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            on_opaque: OpaqueHop::UseLastProxy,
            ipv6_prefix: 64,
        }
    }

    /// A builder starting from the defaults of [`new`](ClientIp::new).
    pub fn builder(trusted: TrustedProxies) -> ClientIpBuilder {
        ClientIpBuilder {
            client_ip: ClientIp::new(trusted),
        }
    }

    /// The client's address for `request`, from its [`PeerAddr`] and
    /// headers; `None` without a peer address, or when
    /// [`OpaqueHop::NoKey`] applies.
    pub fn client_ip<B>(&self, request: &Request<B>) -> Option<IpAddr> {
        let peer = PeerAddr::from_request(request)?;
        self.resolve(peer.ip(), request.headers())
    }

    /// The rate-limit key of `request`: [`client_ip`](ClientIp::client_ip)
    /// with IPv6 cut to the configured prefix (`/64` by default).
    pub fn key<B>(&self, request: &Request<B>) -> Option<IpAddr> {
        let ip = self.client_ip(request)?;
        Some(ipv6_key(ip, self.ipv6_prefix))
    }

    /// The client's address for a connection from `peer` carrying
    /// `headers`: the rule of the [module docs](super#client-ip), without
    /// a request.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer.to_canonical();
        if !self.trusted.contains(peer) {
            tracing::trace!(target: target::HTTP, %peer, "client ip is the untrusted peer");
            return Some(peer);
        }

        let (name, syntax) = self.source(headers);
        let mut nearest = peer;
        let mut hops = 0usize;
        let walked = walk::from_right(headers, name, syntax, self.max_header_bytes, |hop| {
            hops += 1;
            match hop {
                _ if hops > self.max_entries => ControlFlow::Break(Stop::Budget),
                Hop::Ip(ip) if self.trusted.contains(ip) => {
                    nearest = ip;
                    ControlFlow::Continue(())
                }
                Hop::Ip(ip) => ControlFlow::Break(Stop::Client(ip)),
                Hop::Opaque => ControlFlow::Break(Stop::Opaque),
            }
        });

        let (found, reason) = match walked {
            ControlFlow::Break(Stop::Client(ip)) => (Some(ip), "untrusted_entry"),
            ControlFlow::Continue(End::Exhausted) => (Some(nearest), "all_trusted"),
            ControlFlow::Break(Stop::Opaque) => (self.opaque(nearest), "opaque_entry"),
            ControlFlow::Break(Stop::Budget) | ControlFlow::Continue(End::Budget) => {
                (self.opaque(nearest), "budget")
            }
        };
        tracing::trace!(
            target: target::HTTP,
            %peer,
            client = found.map(tracing::field::display),
            hops,
            reason,
            "client ip resolved through trusted proxies"
        );
        found
    }

    /// The trusted networks.
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.trusted
    }

    fn opaque(&self, nearest: IpAddr) -> Option<IpAddr> {
        match self.on_opaque {
            OpaqueHop::UseLastProxy => Some(nearest),
            OpaqueHop::NoKey => None,
        }
    }

    fn source<'a>(&'a self, headers: &HeaderMap) -> (&'a HeaderName, Syntax) {
        let xff = (&X_FORWARDED_FOR, Syntax::List);
        let fwd = (&FORWARDED, Syntax::Forwarded);
        match &self.header {
            ForwardedHeader::XForwardedFor => xff,
            ForwardedHeader::Forwarded => fwd,
            ForwardedHeader::PreferForwarded if headers.contains_key(&FORWARDED) => fwd,
            ForwardedHeader::PreferForwarded => xff,
            ForwardedHeader::PreferXForwardedFor if headers.contains_key(&X_FORWARDED_FOR) => xff,
            ForwardedHeader::PreferXForwardedFor => fwd,
            ForwardedHeader::List(name) => (name, Syntax::List),
        }
    }
}

impl ClientIpBuilder {
    /// The header to read; default [`ForwardedHeader::XForwardedFor`].
    pub fn header(mut self, header: ForwardedHeader) -> Self {
        self.client_ip.header = header;
        self
    }

    /// What an entry naming no address means; default
    /// [`OpaqueHop::UseLastProxy`].
    pub fn on_opaque(mut self, on_opaque: OpaqueHop) -> Self {
        self.client_ip.on_opaque = on_opaque;
        self
    }

    /// The most entries walked before giving up as on an opaque entry.
    /// Default 64; allowed: 1 to 1024.
    pub fn max_entries(mut self, max: usize) -> Self {
        self.client_ip.max_entries = max;
        self
    }

    /// The most header bytes looked at, counted from the right across all
    /// lines of the header. Default 8 KiB; allowed: 64 bytes to 64 KiB.
    pub fn max_header_bytes(mut self, max: usize) -> Self {
        self.client_ip.max_header_bytes = max;
        self
    }

    /// How many leading bits of an IPv6 client address
    /// [`ClientIp::key`] keeps. Default 64; allowed: 1 to 128.
    pub fn ipv6_prefix(mut self, prefix_len: u8) -> Self {
        self.client_ip.ipv6_prefix = prefix_len;
        self
    }

    /// Checks the settings and builds the extractor.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first setting out of its range.
    pub fn build(self) -> Result<ClientIp, ConfigError> {
        let settings = &self.client_ip;
        if !(1..=1024).contains(&settings.max_entries) {
            return Err(ConfigError::new("max_entries", "between 1 and 1024"));
        }
        if !(64..=64 * 1024).contains(&settings.max_header_bytes) {
            return Err(ConfigError::new("max_header_bytes", "between 64 and 65536"));
        }
        check_ipv6_prefix(settings.ipv6_prefix)?;
        Ok(self.client_ip)
    }
}

/// Why the visitor stopped the walk.
enum Stop {
    Client(IpAddr),
    Opaque,
    Budget,
}

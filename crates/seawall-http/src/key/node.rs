//! One entry of a forwarding header: what a proxy says it received the
//! request from.

use std::net::{IpAddr, Ipv6Addr};

/// What one forwarding entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hop {
    /// An address, IPv4-mapped IPv6 turned into IPv4, zone dropped.
    Ip(IpAddr),
    /// `unknown`, an obfuscated identifier (`_hidden`), an element without
    /// `for`, or anything that is not an address.
    Opaque,
}

/// Longer than any address with a zone and a port can be, so that a huge
/// entry is refused before it is read.
const MAX_NODE_LEN: usize = 100;

/// Reads an `X-Forwarded-For` entry or the value of a `Forwarded` `for`:
/// `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`, `[2001:db8::1]`,
/// `[2001:db8::1]:8080`, `fe80::1%eth0`, with an RFC 7239 obfuscated port
/// (`:_p1`) allowed after a bracket or an IPv4 address.
pub(crate) fn parse_node(raw: &[u8]) -> Hop {
    let raw = trim_ows(raw);
    if raw.is_empty() || raw.len() > MAX_NODE_LEN {
        return Hop::Opaque;
    }
    let Ok(text) = std::str::from_utf8(raw) else {
        return Hop::Opaque;
    };
    match parse_text(text) {
        Some(ip) => Hop::Ip(ip.to_canonical()),
        None => Hop::Opaque,
    }
}

/// Reads the `for` parameter of one `Forwarded` element (RFC 7239):
/// parameter names in any case, the value a token or a quoted string.
/// An element with no `for`, or with two, is opaque.
pub(crate) fn forwarded_for(element: &[u8]) -> Hop {
    let mut found = None;
    for pair in element.split(|&b| b == b';') {
        // A pair without `=` cannot be a `for`; it is someone else's
        // malformed parameter and says nothing about the client.
        let Some(eq) = pair.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (name, value) = (trim_ows(&pair[..eq]), &pair[eq + 1..]);
        if !name.eq_ignore_ascii_case(b"for") {
            continue;
        }
        if found.is_some() {
            return Hop::Opaque;
        }
        found = Some(trim_ows(value));
    }
    let Some(value) = found else {
        return Hop::Opaque;
    };

    let node = match value {
        [b'"', inner @ .., b'"'] => inner,
        _ => value,
    };
    // A node never needs an escape or an inner quote; either means the
    // value is not one.
    if node.iter().any(|&b| b == b'"' || b == b'\\') {
        return Hop::Opaque;
    }
    parse_node(node)
}

/// Trims spaces and tabs, the optional whitespace around list elements.
pub(crate) fn trim_ows(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

fn parse_text(text: &str) -> Option<IpAddr> {
    if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        return if port_ok {
            parse_v6(inside).map(IpAddr::V6)
        } else {
            None
        };
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if text.contains('%') {
        return parse_v6(text).map(IpAddr::V6);
    }
    // One colon: IPv4 with a port. More would be an IPv6 address, which
    // needs brackets to carry a port.
    let (host, port) = text.split_once(':')?;
    if port.contains(':') || !is_port(port) {
        return None;
    }
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// An IPv6 address with an optional zone (`%eth0`, or `%25eth0` as in a
/// URI), which is dropped: a key names a host, not the interface a proxy
/// reached it through.
fn parse_v6(text: &str) -> Option<Ipv6Addr> {
    let addr = match text.split_once('%') {
        Some((addr, zone)) => {
            let zone_ok = !zone.is_empty()
                && zone
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'~'));
            if !zone_ok {
                return None;
            }
            addr
        }
        None => text,
    };
    addr.parse().ok()
}

/// A decimal port (`0..=65535`) or an RFC 7239 obfuscated one (`_` and
/// then letters, digits, `.`, `_`, `-`).
fn is_port(port: &str) -> bool {
    if let Some(obfuscated) = port.strip_prefix('_') {
        return !obfuscated.is_empty()
            && obfuscated
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    }
    let digits = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    digits && port.parse::<u16>().is_ok()
}

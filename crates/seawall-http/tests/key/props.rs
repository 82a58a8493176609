//! Property tests: no header content moves an untrusted peer's key, and
//! chains built only by trusted proxies always lead to the client.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use seawall_http::key::{ClientIp, ForwardedHeader, OpaqueHop};

use crate::trusted;

fn any_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|bits| IpAddr::V4(Ipv4Addr::from(bits))),
        any::<u128>().prop_map(|bits| IpAddr::V6(Ipv6Addr::from(bits))),
        // IPv4-mapped IPv6, as a dual-stack listener reports IPv4 peers.
        any::<u32>().prop_map(|bits| IpAddr::V6(Ipv4Addr::from(bits).to_ipv6_mapped())),
    ]
}

/// An address inside the trusted networks (10.0.0.0/8, fd00::/8).
fn proxy_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|bits| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (bits >> 8)))),
        any::<u128>().prop_map(|bits| IpAddr::V6(Ipv6Addr::from((0xfd << 120) | (bits >> 8)))),
    ]
}

/// Header-valid bytes, drawn mostly from the characters the parsers care
/// about: separators, quotes, brackets, digits, hex letters, a few bytes
/// that are not UTF-8.
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    const ALPHABET: &[u8] = b",,;;\"\"==[]::%_ \t\\.0123456789abcdefforunkwxyz\x80\xc3\xff";
    prop::collection::vec(any::<u8>(), 0..200).prop_map(|raw| {
        raw.into_iter()
            .map(|b| match b {
                0..=199 => ALPHABET[usize::from(b) % ALPHABET.len()],
                // Now and then any visible ASCII.
                _ => 0x20 + b % 0x5f,
            })
            .collect()
    })
}

fn header_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("x-forwarded-for"),
        Just("forwarded"),
        Just("x-real-ip")
    ]
}

fn all_settings() -> Vec<ClientIp> {
    let headers = [
        ForwardedHeader::XForwardedFor,
        ForwardedHeader::Forwarded,
        ForwardedHeader::PreferForwarded,
        ForwardedHeader::PreferXForwardedFor,
        ForwardedHeader::List(HeaderName::from_static("x-real-ip")),
    ];
    let mut all = Vec::new();
    for header in headers {
        for on_opaque in [OpaqueHop::UseLastProxy, OpaqueHop::NoKey] {
            let built = ClientIp::builder(trusted())
                .header(header.clone())
                .on_opaque(on_opaque)
                .max_header_bytes(64)
                .max_entries(4)
                .build()
                .unwrap();
            all.push(built);
            all.push(
                ClientIp::builder(trusted())
                    .header(header.clone())
                    .on_opaque(on_opaque)
                    .build()
                    .unwrap(),
            );
        }
    }
    all
}

/// How a trusted proxy writes the address it received a request from.
fn node(ip: IpAddr, port: Option<u16>, syntax_forwarded: bool) -> String {
    let bare = match (ip, port) {
        (IpAddr::V4(v4), None) => v4.to_string(),
        (IpAddr::V4(v4), Some(port)) => format!("{v4}:{port}"),
        (IpAddr::V6(v6), None) if !syntax_forwarded => v6.to_string(),
        (IpAddr::V6(v6), None) => format!("[{v6}]"),
        (IpAddr::V6(v6), Some(port)) => format!("[{v6}]:{port}"),
    };
    if syntax_forwarded {
        format!("for=\"{bare}\";proto=https")
    } else {
        bare
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn an_untrusted_peer_always_keys_as_itself(
        peer in any_ip(),
        header_lines in prop::collection::vec((header_name(), header_bytes()), 0..6),
    ) {
        prop_assume!(!trusted().contains(peer));
        let mut headers = HeaderMap::new();
        for (name, bytes) in header_lines {
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                headers.append(HeaderName::from_static(name), value);
            }
        }
        for extractor in all_settings() {
            prop_assert_eq!(extractor.resolve(peer, &headers), Some(peer.to_canonical()));
        }
    }

    #[test]
    fn any_header_from_a_trusted_peer_gives_an_answer_without_panicking(
        peer in proxy_ip(),
        header_lines in prop::collection::vec((header_name(), header_bytes()), 0..6),
    ) {
        let mut headers = HeaderMap::new();
        for (name, bytes) in header_lines {
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                headers.append(HeaderName::from_static(name), value);
            }
        }
        let use_proxy = ClientIp::new(trusted());
        // The default never refuses a key.
        prop_assert!(use_proxy.resolve(peer, &headers).is_some());
        for extractor in all_settings() {
            let _ = extractor.resolve(peer, &headers);
        }
    }

    #[test]
    fn a_chain_appended_by_trusted_proxies_leads_to_the_client(
        client in any_ip(),
        forged in prop::collection::vec(header_bytes(), 0..3),
        proxies in prop::collection::vec((proxy_ip(), any::<bool>(), prop::option::of(any::<u16>())), 1..5),
        use_forwarded in any::<bool>(),
        client_port in prop::option::of(any::<u16>()),
    ) {
        prop_assume!(!trusted().contains(client));
        let name = if use_forwarded { "forwarded" } else { "x-forwarded-for" };

        // The client's own lines, whatever they hold.
        let mut header_lines: Vec<Vec<u8>> = forged
            .into_iter()
            .filter(|bytes| HeaderValue::from_bytes(bytes).is_ok())
            .collect();

        // Each proxy appends the address it received from: the first the
        // client's, the next the first proxy's, and so on. It appends to
        // the last line or adds a line of its own.
        let mut from = (client, client_port);
        for &(proxy, same_line, port) in &proxies[..] {
            let entry = node(from.0, from.1, use_forwarded);
            match header_lines.last_mut() {
                Some(line) if same_line => {
                    line.extend_from_slice(b", ");
                    line.extend_from_slice(entry.as_bytes());
                }
                _ => header_lines.push(entry.into_bytes()),
            }
            from = (proxy, port);
        }
        let peer = from.0;

        let mut headers = HeaderMap::new();
        for line in &header_lines {
            headers.append(HeaderName::from_static(name), HeaderValue::from_bytes(line).unwrap());
        }
        let header = if use_forwarded {
            ForwardedHeader::Forwarded
        } else {
            ForwardedHeader::XForwardedFor
        };
        for on_opaque in [OpaqueHop::UseLastProxy, OpaqueHop::NoKey] {
            let extractor = ClientIp::builder(trusted())
                .header(header.clone())
                .on_opaque(on_opaque)
                .build()
                .unwrap();
            prop_assert_eq!(
                extractor.resolve(peer, &headers),
                Some(client.to_canonical()),
                "{:?}",
                headers
            );
        }
    }
}

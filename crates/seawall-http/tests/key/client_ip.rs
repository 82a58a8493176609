//! The walk through trusted proxies, and what a client can and cannot do
//! to its key.

use http::{HeaderMap, HeaderName};
use seawall_http::key::{ClientIp, ClientIpBuilder, ForwardedHeader, OpaqueHop, TrustedProxies};

use crate::{client_ip, forwarded, ip, lines, request, trusted, xff};

#[test]
fn an_untrusted_peer_is_the_client_whatever_it_sends() {
    let extractor = client_ip();
    let forgeries = [
        xff("10.0.0.1"),
        xff("198.51.100.1"),
        xff("198.51.100.1, 10.0.0.2"),
        xff("unknown"),
        xff("garbage"),
        forwarded("for=198.51.100.1"),
        forwarded("for=\"[2001:db8::1]:80\", for=10.0.0.2"),
        lines("x-forwarded-for", &[b"198.51.100.1", b"10.0.0.1"]),
        lines("x-real-ip", &[b"198.51.100.1"]),
    ];
    for peer in ["203.0.113.50", "2001:db8::50", "192.168.1.1", "127.0.0.1"] {
        for headers in &forgeries {
            let request = request(peer, headers.clone());
            assert_eq!(extractor.client_ip(&request), Some(ip(peer)), "{headers:?}");
        }
    }

    // Whichever header is configured.
    for header in [
        ForwardedHeader::Forwarded,
        ForwardedHeader::PreferForwarded,
        ForwardedHeader::PreferXForwardedFor,
        ForwardedHeader::List(HeaderName::from_static("x-real-ip")),
    ] {
        let extractor = ClientIp::builder(trusted()).header(header).build().unwrap();
        for headers in &forgeries {
            let request = request("203.0.113.50", headers.clone());
            assert_eq!(extractor.client_ip(&request), Some(ip("203.0.113.50")));
        }
    }
}

#[test]
fn trusting_nobody_ignores_every_header() {
    let extractor = ClientIp::new(TrustedProxies::none());
    let request = request("10.0.0.1", xff("198.51.100.1"));
    assert_eq!(extractor.client_ip(&request), Some(ip("10.0.0.1")));
}

#[test]
fn a_chain_of_trusted_proxies_leads_to_the_client() {
    let extractor = client_ip();
    let table = [
        ("10.0.0.1", xff("203.0.113.9"), "203.0.113.9"),
        ("10.0.0.1", xff("203.0.113.9, 10.0.0.2"), "203.0.113.9"),
        (
            "10.0.0.1",
            xff("203.0.113.9,10.0.0.3,10.0.0.2"),
            "203.0.113.9",
        ),
        ("10.0.0.1", xff("2001:db8::9, fd00::2"), "2001:db8::9"),
        (
            "fd00::1",
            xff("203.0.113.9, fd00::2, 10.0.0.2"),
            "203.0.113.9",
        ),
        // Entries past the client are never read.
        (
            "10.0.0.1",
            xff("198.51.100.7, 203.0.113.9, 10.0.0.2"),
            "203.0.113.9",
        ),
        // One list across header lines, in order.
        (
            "10.0.0.1",
            lines(
                "x-forwarded-for",
                &[b"198.51.100.7", b"203.0.113.9", b"10.0.0.2"],
            ),
            "203.0.113.9",
        ),
        (
            "10.0.0.1",
            lines(
                "x-forwarded-for",
                &[b"198.51.100.7, 203.0.113.9", b"10.0.0.2"],
            ),
            "203.0.113.9",
        ),
        // Nothing forwarded: the proxy itself is asking.
        ("10.0.0.1", HeaderMap::new(), "10.0.0.1"),
        // Only our proxies in the chain: the leftmost is the client.
        ("10.0.0.1", xff("10.0.0.3, 10.0.0.2"), "10.0.0.3"),
        ("::ffff:10.0.0.1", xff("203.0.113.9"), "203.0.113.9"),
    ];
    for (peer, headers, expected) in table {
        let request = request(peer, headers.clone());
        assert_eq!(
            extractor.client_ip(&request),
            Some(ip(expected)),
            "{peer} {headers:?}"
        );
    }
}

#[test]
fn a_forwarded_chain_leads_to_the_client() {
    let extractor = ClientIp::builder(trusted())
        .header(ForwardedHeader::Forwarded)
        .build()
        .unwrap();
    let table = [
        ("for=203.0.113.9", "203.0.113.9"),
        ("for=203.0.113.9;proto=https;by=10.0.0.1", "203.0.113.9"),
        ("For=203.0.113.9, FOR=10.0.0.2", "203.0.113.9"),
        (r#"for="[2001:db8:cafe::17]:4711""#, "2001:db8:cafe::17"),
        (r#"for="203.0.113.9:8080";host=example.com"#, "203.0.113.9"),
        (
            r#"for=198.51.100.1, for="[fd00::2]", for=10.0.0.2"#,
            "198.51.100.1",
        ),
        (
            "proto=http;for=203.0.113.9 , for=10.0.0.2;by=10.0.0.1",
            "203.0.113.9",
        ),
        (r#"for="[2001:db8::1]:_hidden""#, "2001:db8::1"),
    ];
    for (value, expected) in table {
        let request = request("10.0.0.1", forwarded(value));
        assert_eq!(extractor.client_ip(&request), Some(ip(expected)), "{value}");
    }

    // X-Forwarded-For is not read when Forwarded is configured.
    let request = request("10.0.0.1", xff("203.0.113.9"));
    assert_eq!(extractor.client_ip(&request), Some(ip("10.0.0.1")));
}

#[test]
fn prepended_fakes_do_not_change_the_key() {
    // The client 203.0.113.9 sends a forged header; our proxies 10.0.0.2
    // and then 10.0.0.1 append what they saw.
    let xff_fakes = [
        "",
        "198.51.100.1",
        "10.0.0.5",
        "10.0.0.5, 10.0.0.6",
        "fd00::5",
        "unknown",
        "_obfuscated",
        "garbage, more garbage",
        "1.1.1.1, 10.0.0.5, unknown, ::1",
        "\"",
        "[",
        "203.0.113.9, 10.0.0.2",
    ];
    let extractor = client_ip();
    for fake in xff_fakes {
        let same_line = format!("{fake}, 203.0.113.9, 10.0.0.2");
        let request_one = request("10.0.0.1", xff(&same_line));
        assert_eq!(
            extractor.client_ip(&request_one),
            Some(ip("203.0.113.9")),
            "{fake}"
        );

        let separate = lines(
            "x-forwarded-for",
            &[fake.as_bytes(), b"203.0.113.9", b"10.0.0.2"],
        );
        let request_two = request("10.0.0.1", separate);
        assert_eq!(
            extractor.client_ip(&request_two),
            Some(ip("203.0.113.9")),
            "{fake}"
        );
    }

    let forwarded_fakes = [
        "for=10.0.0.5",
        "for=198.51.100.1;by=10.0.0.1",
        // An unterminated quote must not swallow the proxies' entries.
        "for=\"198.51.100.1",
        "for=\"",
        "for=\"[2001:db8::1]:80\";for=10.0.0.9",
        "for=unknown",
        "garbage;;==;",
    ];
    let extractor = ClientIp::builder(trusted())
        .header(ForwardedHeader::Forwarded)
        .build()
        .unwrap();
    for fake in forwarded_fakes {
        let value = format!("{fake}, for=203.0.113.9, for=10.0.0.2");
        let request = request("10.0.0.1", forwarded(&value));
        assert_eq!(
            extractor.client_ip(&request),
            Some(ip("203.0.113.9")),
            "{fake}"
        );
    }
}

#[test]
fn an_opaque_hop_stops_at_the_last_trusted_proxy_or_gives_no_key() {
    let use_proxy = client_ip();
    let no_key = ClientIp::builder(trusted())
        .on_opaque(OpaqueHop::NoKey)
        .build()
        .unwrap();
    let table = [
        ("unknown", "10.0.0.1"),
        ("203.0.113.9, unknown", "10.0.0.1"),
        ("203.0.113.9, _hidden, 10.0.0.2", "10.0.0.2"),
        ("203.0.113.9, garbage, 10.0.0.3, 10.0.0.2", "10.0.0.3"),
    ];
    for (value, nearest) in table {
        let from_proxy = request("10.0.0.1", xff(value));
        assert_eq!(
            use_proxy.client_ip(&from_proxy),
            Some(ip(nearest)),
            "{value}"
        );
        assert_eq!(no_key.client_ip(&from_proxy), None, "{value}");
        assert_eq!(no_key.key(&from_proxy), None, "{value}");
    }

    // A readable client before any opaque entry is unaffected.
    let fine = request("10.0.0.1", xff("unknown, 203.0.113.9"));
    assert_eq!(no_key.client_ip(&fine), Some(ip("203.0.113.9")));
    // The peer's own untrusted address never depends on the setting.
    let direct = request("203.0.113.50", xff("unknown"));
    assert_eq!(no_key.client_ip(&direct), Some(ip("203.0.113.50")));
}

#[test]
fn the_configured_header_and_its_precedence() {
    let both = {
        let mut headers = xff("198.51.100.1");
        headers.extend(forwarded("for=203.0.113.9"));
        headers
    };
    let table = [
        (ForwardedHeader::XForwardedFor, "198.51.100.1"),
        (ForwardedHeader::Forwarded, "203.0.113.9"),
        (ForwardedHeader::PreferForwarded, "203.0.113.9"),
        (ForwardedHeader::PreferXForwardedFor, "198.51.100.1"),
    ];
    for (header, expected) in table {
        let extractor = ClientIp::builder(trusted())
            .header(header.clone())
            .build()
            .unwrap();
        let request = request("10.0.0.1", both.clone());
        assert_eq!(
            extractor.client_ip(&request),
            Some(ip(expected)),
            "{header:?}"
        );
    }

    // Each preference falls back to the other header when it is absent.
    let prefer_forwarded = ClientIp::builder(trusted())
        .header(ForwardedHeader::PreferForwarded)
        .build()
        .unwrap();
    let only_xff = request("10.0.0.1", xff("198.51.100.1"));
    assert_eq!(
        prefer_forwarded.client_ip(&only_xff),
        Some(ip("198.51.100.1"))
    );
    let prefer_xff = ClientIp::builder(trusted())
        .header(ForwardedHeader::PreferXForwardedFor)
        .build()
        .unwrap();
    let only_forwarded = request("10.0.0.1", forwarded("for=203.0.113.9"));
    assert_eq!(
        prefer_xff.client_ip(&only_forwarded),
        Some(ip("203.0.113.9"))
    );

    let real_ip = ClientIp::builder(trusted())
        .header(ForwardedHeader::List(HeaderName::from_static("x-real-ip")))
        .build()
        .unwrap();
    let mut headers = lines("x-real-ip", &[b"203.0.113.9"]);
    headers.extend(xff("198.51.100.1"));
    assert_eq!(
        real_ip.client_ip(&request("10.0.0.1", headers)),
        Some(ip("203.0.113.9"))
    );
}

#[test]
fn ipv6_keys_are_cut_to_the_configured_prefix() {
    let from = |client: &str| request("10.0.0.1", xff(client));
    let default = client_ip();
    let request_v6 = from("2001:db8:1:2:3:4:5:6");
    assert_eq!(
        default.client_ip(&request_v6),
        Some(ip("2001:db8:1:2:3:4:5:6"))
    );
    assert_eq!(default.key(&request_v6), Some(ip("2001:db8:1:2::")));
    assert_eq!(default.key(&from("203.0.113.9")), Some(ip("203.0.113.9")));

    let whole = ClientIp::builder(trusted())
        .ipv6_prefix(128)
        .build()
        .unwrap();
    assert_eq!(whole.key(&request_v6), Some(ip("2001:db8:1:2:3:4:5:6")));
    let wide = ClientIp::builder(trusted())
        .ipv6_prefix(48)
        .build()
        .unwrap();
    assert_eq!(wide.key(&request_v6), Some(ip("2001:db8:1::")));
}

#[test]
fn without_a_peer_address_there_is_no_key() {
    let extractor = client_ip();
    let request = http::Request::builder()
        .header("x-forwarded-for", "203.0.113.9")
        .body(())
        .unwrap();
    assert_eq!(extractor.client_ip(&request), None);
    assert_eq!(extractor.key(&request), None);
}

#[test]
fn the_builder_refuses_values_out_of_range() {
    type Configure = fn(ClientIpBuilder) -> ClientIpBuilder;
    let cases: [(Configure, &str, &str); 6] = [
        (
            |b| b.max_entries(0),
            "max_entries",
            "max_entries must be between 1 and 1024",
        ),
        (
            |b| b.max_entries(1025),
            "max_entries",
            "max_entries must be between 1 and 1024",
        ),
        (
            |b| b.max_header_bytes(63),
            "max_header_bytes",
            "max_header_bytes must be between 64 and 65536",
        ),
        (
            |b| b.max_header_bytes(65_537),
            "max_header_bytes",
            "max_header_bytes must be between 64 and 65536",
        ),
        (
            |b| b.ipv6_prefix(0),
            "ipv6_prefix",
            "ipv6_prefix must be between 1 and 128",
        ),
        (
            |b| b.ipv6_prefix(129),
            "ipv6_prefix",
            "ipv6_prefix must be between 1 and 128",
        ),
    ];
    for (configure, field, message) in cases {
        let error = configure(ClientIp::builder(trusted())).build().unwrap_err();
        assert_eq!(error.field(), field);
        assert_eq!(error.to_string(), message);
    }
    let edges = ClientIp::builder(trusted())
        .max_entries(1)
        .max_entries(1024)
        .max_header_bytes(64)
        .ipv6_prefix(1)
        .build();
    assert!(edges.is_ok());
    assert_eq!(edges.unwrap().trusted_proxies(), &trusted());
}

//! Whatever arrives in the headers, the walk answers as documented and
//! never panics.

use seawall_http::key::{ClientIp, ForwardedHeader, OpaqueHop};

use crate::{client_ip, forwarded, ip, lines, request, trusted, xff};

/// The client an `X-Forwarded-For` value names, as seen from the trusted
/// proxy 10.0.0.1; `10.0.0.1` itself where the rightmost entry is opaque.
#[test]
fn x_forwarded_for_entries() {
    let table = [
        // Addresses, with and without ports and brackets.
        ("203.0.113.9", "203.0.113.9"),
        ("203.0.113.9:8080", "203.0.113.9"),
        ("203.0.113.9:0", "203.0.113.9"),
        ("203.0.113.9:_obf", "203.0.113.9"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:DB8::A", "2001:db8::a"),
        // Zones are dropped, in either spelling.
        ("fe80::1%eth0", "fe80::1"),
        ("[fe80::1%eth0]:80", "fe80::1"),
        ("[fe80::1%25eth0]", "fe80::1"),
        // IPv4-mapped IPv6 is IPv4, and trusted when its IPv4 is.
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("[::ffff:203.0.113.9]:80", "203.0.113.9"),
        ("::ffff:10.0.0.9", "10.0.0.9"),
        // Whitespace and empty elements.
        ("  203.0.113.9\t", "203.0.113.9"),
        (" , ,203.0.113.9, ,", "203.0.113.9"),
        ("", "10.0.0.1"),
        (",,,", "10.0.0.1"),
        // Opaque entries stop the walk at the proxy.
        ("unknown", "10.0.0.1"),
        ("UNKNOWN", "10.0.0.1"),
        ("_hidden", "10.0.0.1"),
        ("garbage", "10.0.0.1"),
        ("203.0.113.9:65536", "10.0.0.1"),
        ("203.0.113.9:", "10.0.0.1"),
        ("203.0.113.9:80:80", "10.0.0.1"),
        ("203.0.113.9:_", "10.0.0.1"),
        ("[203.0.113.9]", "10.0.0.1"),
        ("[2001:db8::1", "10.0.0.1"),
        ("[2001:db8::1]x", "10.0.0.1"),
        ("2001:db8::1%", "10.0.0.1"),
        ("fe80::1%eth 0", "10.0.0.1"),
        ("203.0.113.9%eth0", "10.0.0.1"),
        ("01.2.3.4", "10.0.0.1"),
        ("1.2.3", "10.0.0.1"),
        ("256.0.0.1", "10.0.0.1"),
        ("\"203.0.113.9\"", "10.0.0.1"),
        ("for=203.0.113.9", "10.0.0.1"),
        ("203.0.113.9 198.51.100.1", "10.0.0.1"),
    ];
    let extractor = client_ip();
    for (value, expected) in table {
        let request = request("10.0.0.1", xff(value));
        assert_eq!(
            extractor.client_ip(&request),
            Some(ip(expected)),
            "{value:?}"
        );
    }
}

#[test]
fn forwarded_elements() {
    let table = [
        ("for=203.0.113.9", "203.0.113.9"),
        ("fOr=203.0.113.9", "203.0.113.9"),
        ("for = 203.0.113.9", "203.0.113.9"),
        (r#"for="203.0.113.9""#, "203.0.113.9"),
        (r#"for="[2001:db8::1]""#, "2001:db8::1"),
        (r#"for="[2001:db8::1]:8443""#, "2001:db8::1"),
        (r#"for="[fe80::1%25eth0]""#, "fe80::1"),
        (r#"for="::ffff:203.0.113.9""#, "203.0.113.9"),
        (
            "by=10.0.0.1;for=203.0.113.9;proto=https;host=a",
            "203.0.113.9",
        ),
        ("for=203.0.113.9;x", "203.0.113.9"),
        // Opaque: no `for`, two of them, unknown, obfuscated, bad quoting.
        ("proto=https", "10.0.0.1"),
        ("by=10.0.0.1", "10.0.0.1"),
        ("for=203.0.113.9;for=198.51.100.1", "10.0.0.1"),
        ("for=unknown", "10.0.0.1"),
        (r#"for="unknown""#, "10.0.0.1"),
        ("for=_gazonk", "10.0.0.1"),
        (r#"for="_gazonk""#, "10.0.0.1"),
        (r#"for="203.0.113.9"#, "10.0.0.1"),
        (r#"for=""#, "10.0.0.1"),
        (r#"for="""#, "10.0.0.1"),
        (r#"for="a\"b""#, "10.0.0.1"),
        (r#"for="20\3.0.113.9""#, "10.0.0.1"),
        ("for=", "10.0.0.1"),
        ("for", "10.0.0.1"),
        ("203.0.113.9", "10.0.0.1"),
        ("forx=203.0.113.9", "10.0.0.1"),
    ];
    let extractor = ClientIp::builder(trusted())
        .header(ForwardedHeader::Forwarded)
        .build()
        .unwrap();
    for (value, expected) in table {
        let request = request("10.0.0.1", forwarded(value));
        assert_eq!(
            extractor.client_ip(&request),
            Some(ip(expected)),
            "{value:?}"
        );
    }
}

#[test]
fn non_utf8_bytes_are_opaque() {
    let extractor = client_ip();
    let raw: [&[u8]; 4] = [
        b"\xff\xfe",
        b"203.0.113.9\xff",
        b"\xc3\xa9",
        b"\x80, 10.0.0.2",
    ];
    for value in raw {
        let request = request("10.0.0.1", lines("x-forwarded-for", &[value]));
        let expected = if value.ends_with(b"10.0.0.2") {
            "10.0.0.2"
        } else {
            "10.0.0.1"
        };
        assert_eq!(
            extractor.client_ip(&request),
            Some(ip(expected)),
            "{value:?}"
        );
    }
    // Non-UTF-8 left of the client is never looked at.
    let request = request(
        "10.0.0.1",
        lines("x-forwarded-for", &[b"\xff\xff, 203.0.113.9"]),
    );
    assert_eq!(extractor.client_ip(&request), Some(ip("203.0.113.9")));
}

#[test]
fn huge_headers_cost_a_bounded_walk() {
    let extractor = client_ip();
    let padding = "A".repeat(10_000);

    // A client's 10 kB of junk left of its own entry is never reached.
    let junk_left = format!("{padding}, 203.0.113.9, 10.0.0.2");
    let request_one = request("10.0.0.1", xff(&junk_left));
    assert_eq!(extractor.client_ip(&request_one), Some(ip("203.0.113.9")));

    // A 10 kB entry on the right is past the byte budget: opaque.
    let junk_right = format!("203.0.113.9, {padding}");
    let request_two = request("10.0.0.1", xff(&junk_right));
    assert_eq!(extractor.client_ip(&request_two), Some(ip("10.0.0.1")));

    // 1,000 trusted entries: the walk stops after 64 at the last one seen.
    let many = format!("203.0.113.9, {}", vec!["10.0.0.2"; 1000].join(", "));
    let request_three = request("10.0.0.1", xff(&many));
    assert_eq!(extractor.client_ip(&request_three), Some(ip("10.0.0.2")));
    let no_key = ClientIp::builder(trusted())
        .on_opaque(OpaqueHop::NoKey)
        .build()
        .unwrap();
    assert_eq!(no_key.client_ip(&request_three), None);

    // A bigger entry budget reaches the client if the bytes allow it.
    let roomy = ClientIp::builder(trusted())
        .max_entries(1024)
        .max_header_bytes(64 * 1024)
        .build()
        .unwrap();
    assert_eq!(roomy.client_ip(&request_three), Some(ip("203.0.113.9")));

    // The byte budget alone stops a walk that the entry cap would allow.
    let long = format!("203.0.113.9, {}", vec!["10.0.0.2"; 2000].join(","));
    let bytes_only = ClientIp::builder(trusted())
        .max_entries(1024)
        .max_header_bytes(100)
        .build()
        .unwrap();
    assert_eq!(
        bytes_only.client_ip(&request("10.0.0.1", xff(&long))),
        Some(ip("10.0.0.2"))
    );
}

#[test]
fn many_header_lines_are_one_bounded_list() {
    let extractor = client_ip();
    let mut values: Vec<&[u8]> = vec![b"203.0.113.9"];
    values.extend(std::iter::repeat_n(&b"10.0.0.2"[..], 500));
    let request_many = request("10.0.0.1", lines("x-forwarded-for", &values));
    // 501 lines: the walk gives up after 64 trusted entries.
    assert_eq!(extractor.client_ip(&request_many), Some(ip("10.0.0.2")));

    // Empty lines between the proxies' lines are skipped.
    let with_empty = lines(
        "x-forwarded-for",
        &[b"198.51.100.1", b"", b"203.0.113.9", b"", b"10.0.0.2", b""],
    );
    assert_eq!(
        extractor.client_ip(&request("10.0.0.1", with_empty)),
        Some(ip("203.0.113.9"))
    );
}

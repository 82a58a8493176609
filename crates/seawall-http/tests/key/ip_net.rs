use seawall_http::key::{IpNet, TrustedProxies};

use crate::ip;

#[test]
fn valid_networks_parse_and_print_back() {
    let table = [
        ("10.0.0.0/8", "10.0.0.0/8", 8),
        ("0.0.0.0/0", "0.0.0.0/0", 0),
        ("192.168.1.7/32", "192.168.1.7/32", 32),
        ("192.168.1.7", "192.168.1.7/32", 32),
        ("172.16.0.0/12", "172.16.0.0/12", 12),
        ("2001:db8::/32", "2001:db8::/32", 32),
        ("::/0", "::/0", 0),
        ("::1", "::1/128", 128),
        ("fe80::/10", "fe80::/10", 10),
        ("::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104", 104),
        ("2001:DB8::/48", "2001:db8::/48", 48),
        ("10.0.0.0/008", "10.0.0.0/8", 8),
    ];
    for (text, printed, len) in table {
        let net: IpNet = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(net.to_string(), printed, "{text}");
        assert_eq!(format!("{net:?}"), printed, "{text}");
        assert_eq!(net.prefix_len(), len, "{text}");
        assert_eq!(printed.parse::<IpNet>(), Ok(net), "{text}");
    }
}

#[test]
fn invalid_networks_are_refused_with_a_reason() {
    let not_an_address = "invalid IP network: not an IP address";
    let bad_len = "invalid IP network: prefix length is not 0..=128";
    let host_bits = "invalid IP network: address has bits set past the prefix";
    let table = [
        ("", not_an_address),
        ("/8", not_an_address),
        ("10.0.0/8", not_an_address),
        ("10.0.0.256/32", not_an_address),
        ("010.0.0.0/8", not_an_address),
        (" 10.0.0.0/8", not_an_address),
        ("fe80::1%eth0/128", not_an_address),
        ("[::1]/128", not_an_address),
        ("example.com/8", not_an_address),
        ("10.0.0.0/", bad_len),
        ("10.0.0.0/-1", bad_len),
        ("10.0.0.0/+8", bad_len),
        ("10.0.0.0/8 ", bad_len),
        ("10.0.0.0/1000", bad_len),
        ("::/129", bad_len),
        ("10.0.0.0/8/8", bad_len),
        (
            "10.0.0.0/33",
            "invalid IP network: prefix length longer than 32",
        ),
        (
            "10.0.0.0/128",
            "invalid IP network: prefix length longer than 32",
        ),
        ("10.0.0.1/8", host_bits),
        ("192.168.1.1/24", host_bits),
        ("2001:db8::1/32", host_bits),
        ("::1/0", host_bits),
    ];
    for (text, reason) in table {
        let error = text.parse::<IpNet>().expect_err(text);
        assert_eq!(error.to_string(), reason, "{text:?}");
    }
}

#[test]
fn new_checks_like_parse() {
    assert!(IpNet::new(ip("10.0.0.0"), 8).is_some());
    assert!(IpNet::new(ip("10.0.0.0"), 33).is_none());
    assert!(IpNet::new(ip("10.0.0.1"), 8).is_none());
    assert!(IpNet::new(ip("::"), 128).is_some());
    assert!(IpNet::new(ip("::"), 129).is_none());
    assert_eq!(
        IpNet::new(ip("10.0.0.0"), 8).unwrap().addr(),
        ip("10.0.0.0")
    );
}

#[test]
fn contains_table() {
    let table = [
        ("10.0.0.0/8", "10.0.0.0", true),
        ("10.0.0.0/8", "10.255.255.255", true),
        ("10.0.0.0/8", "11.0.0.0", false),
        ("10.0.0.0/8", "9.255.255.255", false),
        ("192.168.1.0/24", "192.168.1.200", true),
        ("192.168.1.0/24", "192.168.2.1", false),
        ("192.168.1.7/32", "192.168.1.7", true),
        ("192.168.1.7/32", "192.168.1.8", false),
        ("0.0.0.0/0", "203.0.113.1", true),
        ("0.0.0.0/0", "2001:db8::1", false),
        ("172.16.0.0/12", "172.31.255.255", true),
        ("172.16.0.0/12", "172.32.0.0", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/32", "2001:db9::1", false),
        ("::/0", "2001:db8::1", true),
        ("::/0", "10.0.0.1", true),
        ("fe80::/10", "febf::1", true),
        ("fe80::/10", "fec0::1", false),
        ("::1/128", "::1", true),
        ("::1/128", "::2", false),
        // IPv4-mapped IPv6 is the IPv4 host, both ways round.
        ("10.0.0.0/8", "::ffff:10.1.2.3", true),
        ("10.0.0.0/8", "::ffff:11.1.2.3", false),
        ("::ffff:10.0.0.0/104", "10.1.2.3", true),
        ("::ffff:10.0.0.0/104", "11.1.2.3", false),
        // IPv4-compatible (deprecated) addresses are not mapped ones.
        ("10.0.0.0/8", "::10.1.2.3", false),
        ("10.0.0.0/8", "2001:db8::a01:203", false),
    ];
    for (net, addr, expected) in table {
        let parsed: IpNet = net.parse().unwrap();
        assert_eq!(parsed.contains(ip(addr)), expected, "{net} contains {addr}");
    }
}

#[test]
fn trusted_proxies_parse_a_list() {
    let proxies: TrustedProxies = " 10.0.0.0/8,192.168.0.1\n2001:db8::/32 ,, "
        .parse()
        .unwrap();
    assert_eq!(proxies.networks().len(), 3);
    assert_eq!(
        format!("{proxies:?}"),
        "[10.0.0.0/8, 192.168.0.1/32, 2001:db8::/32]"
    );
    assert!(proxies.contains(ip("10.9.9.9")));
    assert!(proxies.contains(ip("192.168.0.1")));
    assert!(!proxies.contains(ip("192.168.0.2")));
    assert!(proxies.contains(ip("2001:db8::5")));

    let empty: TrustedProxies = "".parse().unwrap();
    assert!(empty.is_empty());
    assert_eq!(empty, TrustedProxies::none());
    assert_eq!(TrustedProxies::default(), TrustedProxies::none());
    assert!(!empty.contains(ip("10.0.0.1")));

    assert!("10.0.0.0/8, 10.0.0.1/8".parse::<TrustedProxies>().is_err());
    let collected: TrustedProxies = ["10.0.0.0/8".parse::<IpNet>().unwrap()]
        .into_iter()
        .collect();
    assert!(collected.contains(ip("10.1.1.1")));
}

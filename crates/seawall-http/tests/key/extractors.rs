//! The peer address, header, route and closure extractors.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderName, HeaderValue, Request};
use seawall_http::key::{HeaderKey, KeyFn, PeerAddr, PeerIp, RouteKey};

use crate::{ip, request, xff};

fn api_key() -> HeaderKey {
    HeaderKey::new(HeaderName::from_static("x-api-key"))
}

fn with_api_keys(values: &[&[u8]]) -> Request<()> {
    let mut request = Request::new(());
    for value in values {
        let value = HeaderValue::from_bytes(value).unwrap();
        request.headers_mut().append("x-api-key", value);
    }
    request
}

#[test]
fn the_peer_is_read_from_peer_addr_then_a_bare_socket_addr() {
    let peer: SocketAddr = "192.0.2.7:5000".parse().unwrap();
    let other: SocketAddr = "198.51.100.1:6000".parse().unwrap();

    let mut request = Request::new(());
    assert_eq!(PeerAddr::from_request(&request), None);
    assert_eq!(PeerIp::new().key(&request), None);

    request.extensions_mut().insert(other);
    assert_eq!(PeerAddr::from_request(&request), Some(PeerAddr(other)));

    request.extensions_mut().insert(PeerAddr(peer));
    assert_eq!(PeerAddr::from_request(&request), Some(PeerAddr(peer)));
    assert_eq!(PeerIp::new().key(&request), Some(ip("192.0.2.7")));
    assert_eq!(PeerAddr::from(peer), PeerAddr(peer));
}

#[test]
fn the_peer_ip_ignores_headers_and_unmaps_ipv4() {
    let forged = request("203.0.113.50", xff("10.0.0.1"));
    assert_eq!(PeerIp::new().key(&forged), Some(ip("203.0.113.50")));

    let mapped = request("[::ffff:203.0.113.50]:1234", xff("10.0.0.1"));
    assert_eq!(
        PeerAddr::from_request(&mapped).unwrap().ip(),
        ip("203.0.113.50")
    );
    assert_eq!(PeerIp::new().key(&mapped), Some(ip("203.0.113.50")));

    let v6 = request("[2001:db8:aa:bb:1:2:3:4]:1234", Default::default());
    assert_eq!(PeerIp::new().key(&v6), Some(ip("2001:db8:aa:bb::")));
    let whole = PeerIp::with_ipv6_prefix(128).unwrap();
    assert_eq!(whole.key(&v6), Some(ip("2001:db8:aa:bb:1:2:3:4")));
    for wrong in [0, 129, 255] {
        let error = PeerIp::with_ipv6_prefix(wrong).unwrap_err();
        assert_eq!(error.field(), "ipv6_prefix");
    }
    assert_eq!(PeerIp::default(), PeerIp::new());
}

#[test]
fn a_header_key_is_one_printable_line_within_its_length() {
    let extractor = api_key();
    assert_eq!(extractor.name(), "x-api-key");
    let table: [(&[&[u8]], Option<&str>); 8] = [
        (&[b"k-123"], Some("k-123")),
        (&[b"with space and\ttab"], Some("with space and\ttab")),
        (&[], None),
        (&[b""], None),
        // Two lines are ambiguous: no key rather than a client's pick.
        (&[b"a", b"b"], None),
        (&[b"caf\xc3\xa9"], None),
        (&[b"\xff"], None),
        (&[&[b'k'; 257]], None),
    ];
    for (values, expected) in table {
        let key = extractor.key(&with_api_keys(values));
        assert_eq!(key.as_deref(), expected, "{values:?}");
    }
    assert_eq!(
        extractor
            .key(&with_api_keys(&[&[b'k'; 256]]))
            .map(|k| k.len()),
        Some(256)
    );

    let short = HeaderKey::with_max_len(HeaderName::from_static("x-api-key"), 4).unwrap();
    assert_eq!(
        short.key(&with_api_keys(&[b"abcd"])).as_deref(),
        Some("abcd")
    );
    assert_eq!(short.key(&with_api_keys(&[b"abcde"])), None);
    for wrong in [0, 8193] {
        let error = HeaderKey::with_max_len(HeaderName::from_static("x"), wrong).unwrap_err();
        assert_eq!(error.field(), "max_len");
        assert_eq!(error.to_string(), "max_len must be between 1 and 8192");
    }
}

#[test]
fn a_route_prefix_matches_at_segment_boundaries_longest_first() {
    let routes = RouteKey::prefixes(["/api", "/api/admin/", "/login", "/static/"]).unwrap();
    let table = [
        ("/api", Some("/api")),
        ("/api/", Some("/api")),
        ("/api/users/7", Some("/api")),
        ("/apis", None),
        ("/api/admin/", Some("/api/admin/")),
        ("/api/admin/users", Some("/api/admin/")),
        // "/api/admin/" ends with a slash, so "/api/admin" is under "/api".
        ("/api/admin", Some("/api")),
        ("/login", Some("/login")),
        ("/login?next=/api", Some("/login")),
        ("/login/", Some("/login")),
        ("/loginx", None),
        ("/static/app.js", Some("/static/")),
        ("/static", None),
        ("/", None),
        ("/other", None),
    ];
    for (uri, expected) in table {
        let request = Request::get(uri).body(()).unwrap();
        assert_eq!(routes.key(&request).as_deref(), expected, "{uri}");
    }

    // The key is the configured prefix itself, shared, not a copy.
    let first = routes
        .key(&Request::get("/api/a").body(()).unwrap())
        .unwrap();
    let second = routes
        .key(&Request::get("/api/b").body(()).unwrap())
        .unwrap();
    assert!(Arc::ptr_eq(&first, &second));

    let everything = RouteKey::prefixes(["/"]).unwrap();
    let any = Request::get("/anything/at/all").body(()).unwrap();
    assert_eq!(everything.key(&any).as_deref(), Some("/"));

    for wrong in [vec![], vec!["api"], vec!["/ok", ""]] {
        let error = RouteKey::prefixes(wrong).unwrap_err();
        assert_eq!(error.field(), "prefixes");
    }
}

#[test]
fn a_route_path_is_the_whole_path_within_its_length() {
    let path = RouteKey::path();
    let request = Request::get("/users/7?sort=name").body(()).unwrap();
    assert_eq!(path.key(&request).as_deref(), Some("/users/7"));
    let long = format!("/{}", "a".repeat(1023));
    assert_eq!(
        path.key(&Request::get(&*long).body(()).unwrap())
            .map(|k| k.len()),
        Some(1024)
    );
    let too_long = format!("/{}", "a".repeat(1024));
    assert_eq!(path.key(&Request::get(&*too_long).body(()).unwrap()), None);
    assert!(format!("{path:?}").contains("max_len"));
}

#[test]
fn a_closure_keys_however_it_likes() {
    let by_method = KeyFn::new(|request: &Request<()>| {
        (request.method() != http::Method::OPTIONS).then(|| request.method().clone())
    });
    let get = Request::get("/").body(()).unwrap();
    assert_eq!(by_method.key(&get), Some(http::Method::GET));
    let options = Request::options("/").body(()).unwrap();
    assert_eq!(by_method.key(&options), None);
    assert!(format!("{by_method:?}").starts_with("KeyFn"));

    // Extractors are cheap to clone into closures.
    let peer_ip = PeerIp::new();
    let or_anonymous = KeyFn::new(move |request: &Request<()>| {
        Some(
            peer_ip
                .key(request)
                .map_or("anonymous".to_owned(), |ip| ip.to_string()),
        )
    });
    assert_eq!(or_anonymous.key(&get).as_deref(), Some("anonymous"));
}

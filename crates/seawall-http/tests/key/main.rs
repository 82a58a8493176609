//! `key`: CIDR networks, client IPs behind trusted proxies, and the other
//! key extractors.

mod axum;
mod client_ip;
mod extractors;
mod ip_net;
mod malformed;
mod props;

use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, HeaderName, HeaderValue, Request};
use seawall_http::key::{ClientIp, PeerAddr, TrustedProxies};

/// The proxies of most tests: one IPv4 and one IPv6 subnet.
fn trusted() -> TrustedProxies {
    "10.0.0.0/8, fd00::/8".parse().unwrap()
}

fn client_ip() -> ClientIp {
    ClientIp::new(trusted())
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Headers holding one line of `name` per item of `lines`, raw bytes.
fn lines(name: &'static str, lines: &[&[u8]]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in lines {
        let value = HeaderValue::from_bytes(line).expect("a valid header value");
        headers.append(HeaderName::from_static(name), value);
    }
    headers
}

fn xff(value: &str) -> HeaderMap {
    lines("x-forwarded-for", &[value.as_bytes()])
}

fn forwarded(value: &str) -> HeaderMap {
    lines("forwarded", &[value.as_bytes()])
}

/// A request from `peer` carrying `headers`.
fn request(peer: &str, headers: HeaderMap) -> Request<()> {
    let mut request = Request::new(());
    *request.headers_mut() = headers;
    let peer: SocketAddr = match peer.parse::<IpAddr>() {
        Ok(ip) => SocketAddr::new(ip, 40_000),
        Err(_) => peer.parse().unwrap(),
    };
    request.extensions_mut().insert(PeerAddr(peer));
    request
}

//! axum over real TCP: `ConnectInfo` copied into `PeerAddr`, read by
//! `ClientIp` and `PeerIp`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::map_request;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use seawall_http::key::{ClientIp, PeerAddr, PeerIp, TrustedProxies};

async fn copy_peer_addr(mut request: Request) -> Request {
    let connect_info = request.extensions().get::<ConnectInfo<SocketAddr>>();
    if let Some(&ConnectInfo(addr)) = connect_info {
        request.extensions_mut().insert(PeerAddr(addr));
    }
    request
}

/// Serves `/` answering `<client ip> <peer ip>` on a loopback port.
async fn serve(trusted: TrustedProxies, copy: bool) -> SocketAddr {
    let client_ip = ClientIp::new(trusted);
    let handler = move |request: Request| async move {
        let client = client_ip.client_ip(&request);
        let peer = PeerIp::new().key(&request);
        format!("{client:?} {peer:?}")
    };
    let mut app = Router::new().route("/", get(handler));
    if copy {
        app = app.layer(map_request(copy_peer_addr));
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, make_service).await.unwrap() });
    addr
}

async fn get_text(addr: SocketAddr, forwarded_for: &str) -> String {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let request = http::Request::get(format!("http://{addr}/"))
        .header("x-forwarded-for", forwarded_for)
        .body(Empty::new())
        .unwrap();
    let response = client.request(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test]
async fn a_forged_header_from_an_untrusted_peer_is_ignored() {
    let addr = serve("10.0.0.0/8".parse().unwrap(), true).await;
    let text = get_text(addr, "203.0.113.9").await;
    assert_eq!(text, "Some(127.0.0.1) Some(127.0.0.1)");
}

#[tokio::test]
async fn a_trusted_peer_names_the_client() {
    let addr = serve("127.0.0.0/8".parse().unwrap(), true).await;
    let text = get_text(addr, "198.51.100.1, 203.0.113.9").await;
    assert_eq!(text, "Some(203.0.113.9) Some(127.0.0.1)");
}

#[tokio::test]
async fn without_the_copy_there_is_no_peer_and_no_key() {
    let addr = serve("127.0.0.0/8".parse().unwrap(), false).await;
    let text = get_text(addr, "203.0.113.9").await;
    assert_eq!(text, "None None");
}

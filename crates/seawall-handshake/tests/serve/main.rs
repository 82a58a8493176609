//! The hardened server: timeouts on paused time over an in-memory pipe,
//! the slowloris comparison with `axum::serve`, the connection cap and
//! graceful shutdown over real TCP.

mod slowloris;
mod tcp;

use std::time::Duration;

use axum::{routing::get, Router};
use seawall_handshake::serve::Server;
use seawall_test_support::recorder::TestRecorder;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::time::Instant;

const HEAD: &[u8] = b"GET / HTTP/1.1\r\nhost: test\r\n\r\n";
const HALF_HEAD: &[u8] = b"GET / HTTP/1.1\r\nhost: te";

fn app() -> Router {
    Router::new().route("/", get(|| async { "hello" }))
}

fn server(header: Duration, idle: Duration) -> Server {
    Server::builder()
        .name("test")
        .header_read_timeout(header)
        .idle_timeout(idle)
        .build()
        .unwrap()
}

/// A client end of an in-memory connection served by `server`.
fn connect(server: &Server) -> DuplexStream {
    let (client, io) = tokio::io::duplex(4096);
    let server = server.clone();
    tokio::spawn(async move { server.serve_connection(io, app()).await });
    client
}

/// Reads one response with a `content-length`, returns its head and body.
async fn read_response<I: AsyncRead + Unpin>(io: &mut I) -> (String, String) {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = find(&bytes, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length: "))
                .map_or(0, |n| n.trim().parse().unwrap());
            if bytes.len() >= end + 4 + length {
                let body = String::from_utf8_lossy(&bytes[end + 4..end + 4 + length]);
                return (head, body.into_owned());
            }
        }
        let n = io.read(&mut chunk).await.expect("read a response");
        assert!(
            n > 0,
            "closed mid-response: {:?}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Waits until the server closes `io`, and says when.
async fn closed_at<I: AsyncRead + Unpin>(io: &mut I) -> Instant {
    let mut byte = [0u8; 1];
    match io.read(&mut byte).await {
        Ok(0) | Err(_) => Instant::now(),
        Ok(_) => panic!("expected the connection to close, got a byte"),
    }
}

async fn get_once<I: AsyncRead + AsyncWrite + Unpin>(io: &mut I) -> (String, String) {
    io.write_all(HEAD).await.unwrap();
    read_response(io).await
}

#[tokio::test(start_paused = true)]
async fn a_head_that_takes_too_long_is_cut_at_the_header_timeout() {
    let recorder = TestRecorder::default();
    let server = metrics::with_local_recorder(&recorder, || {
        server(Duration::from_millis(200), Duration::from_secs(60))
    });
    let mut client = connect(&server);

    client.write_all(HALF_HEAD).await.unwrap();
    let started = Instant::now();
    let closed = closed_at(&mut client).await;

    assert_eq!(closed - started, Duration::from_millis(200));
    let timed_out = "seawall_handshake_connections_timed_out_total{name=test,phase=header}";
    assert_eq!(recorder.value(timed_out), Some(1.0));
    assert_eq!(
        recorder.value("seawall_handshake_connections_open{name=test}"),
        Some(0.0)
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_but_timely_head_is_served() {
    let server = server(Duration::from_millis(200), Duration::from_secs(60));
    let mut client = connect(&server);

    client.write_all(HALF_HEAD).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    client.write_all(b"st\r\n\r\n").await.unwrap();

    let (head, body) = read_response(&mut client).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, "hello");
}

#[tokio::test(start_paused = true)]
async fn an_idle_connection_is_closed_at_the_idle_timeout_not_the_header_timeout() {
    let recorder = TestRecorder::default();
    let server = metrics::with_local_recorder(&recorder, || {
        server(Duration::from_millis(200), Duration::from_secs(5))
    });
    let mut client = connect(&server);

    // Kept alive after a response, the connection may idle longer than the
    // header timeout: hyper's own header timer alone would cut it at 200 ms.
    let (head, _) = get_once(&mut client).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (head, _) = get_once(&mut client).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");

    let idle_from = Instant::now();
    let closed = closed_at(&mut client).await;
    assert_eq!(closed - idle_from, Duration::from_secs(5));
    let idle = "seawall_handshake_connections_timed_out_total{name=test,phase=idle}";
    assert_eq!(recorder.value(idle), Some(1.0));
    let header = "seawall_handshake_connections_timed_out_total{name=test,phase=header}";
    assert_eq!(recorder.value(header), Some(0.0));
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_never_speaks_is_closed_at_the_idle_timeout() {
    let server = server(Duration::from_millis(200), Duration::from_secs(2));
    let mut client = connect(&server);
    let started = Instant::now();

    let closed = closed_at(&mut client).await;
    assert_eq!(closed - started, Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn the_header_timeout_starts_at_the_first_byte_of_each_head() {
    let server = server(Duration::from_millis(200), Duration::from_secs(60));
    let mut client = connect(&server);
    let (head, _) = get_once(&mut client).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");

    // Idle for a second, then a slow second request: it is cut 200 ms after
    // its first byte, not counted from the end of the first response.
    tokio::time::sleep(Duration::from_secs(1)).await;
    client.write_all(HALF_HEAD).await.unwrap();
    let started = Instant::now();
    let closed = closed_at(&mut client).await;
    assert_eq!(closed - started, Duration::from_millis(200));
}

#[test]
fn the_settings_are_validated() {
    let field = |builder: seawall_handshake::serve::ServerBuilder| builder.build().unwrap_err();

    let error = field(Server::builder().header_read_timeout(Duration::ZERO));
    assert_eq!(error.field(), "header_read_timeout");
    assert_eq!(
        error.to_string(),
        "header_read_timeout must be more than 0s and at most 1h, got 0ns"
    );
    let error = field(Server::builder().idle_timeout(Duration::from_secs(3601)));
    assert_eq!(error.field(), "idle_timeout");
    let error = field(Server::builder().shutdown_timeout(Duration::ZERO));
    assert_eq!(error.field(), "shutdown_timeout");
    let error = field(Server::builder().max_connections(0));
    assert_eq!(error.field(), "max_connections");
    let error = field(Server::builder().max_connections(1_000_001));
    assert_eq!(error.field(), "max_connections");

    let server = Server::builder().build().unwrap();
    assert_eq!(server.header_read_timeout(), Duration::from_secs(10));
    assert_eq!(server.idle_timeout(), Duration::from_secs(75));
    assert_eq!(server.max_connections(), 1024);
    assert_eq!(server.shutdown_timeout(), Duration::from_secs(10));
}

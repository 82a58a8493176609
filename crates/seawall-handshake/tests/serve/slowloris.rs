//! Why the hardened server exists.
//!
//! A slowloris client opens a connection, sends part of its request
//! headers and then stalls. `axum::serve` sets no timeout for reading
//! headers, so it keeps such a connection (its socket, its task) open for
//! as long as the client likes; a few thousand of them exhaust the
//! server's file descriptors while using almost no bandwidth. The hardened
//! [`Server`] closes the connection once the header-read timeout has
//! passed.
//!
//! This runs over real TCP in real time: the header timeout is 200 ms and
//! each client waits at most 1 s, five times that.

use std::time::Duration;

use seawall_handshake::serve::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::{app, read_response, HALF_HEAD};

const HEADER_TIMEOUT: Duration = Duration::from_millis(200);
const PATIENCE: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_slowloris_client_is_cut_by_the_hardened_server_but_not_by_axum_serve() {
    let (hardened, plain) = tokio::join!(stall_against_hardened(), stall_against_axum());

    assert!(
        hardened.is_closed(),
        "the hardened server closes a stalled head within {PATIENCE:?}: {hardened:?}"
    );
    assert_eq!(
        plain,
        Stalled::StillOpen,
        "axum::serve keeps a stalled head open; that is why Server exists"
    );
}

#[derive(Debug, PartialEq, Eq)]
enum Stalled {
    Closed,
    Reset,
    StillOpen,
}

impl Stalled {
    fn is_closed(&self) -> bool {
        matches!(self, Stalled::Closed | Stalled::Reset)
    }
}

/// Sends half a head and waits [`PATIENCE`] for the server to close.
async fn stall(client: &mut TcpStream) -> Stalled {
    client.write_all(HALF_HEAD).await.unwrap();
    let mut byte = [0u8; 1];
    match tokio::time::timeout(PATIENCE, client.read(&mut byte)).await {
        Ok(Ok(0)) => Stalled::Closed,
        Ok(Ok(_)) => panic!("the server answered half a head"),
        Ok(Err(_)) => Stalled::Reset,
        Err(_) => Stalled::StillOpen,
    }
}

async fn stall_against_hardened() -> Stalled {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::builder()
        .header_read_timeout(HEADER_TIMEOUT)
        .build()
        .unwrap();
    let serving = tokio::spawn(async move {
        server
            .serve(listener, app(), std::future::pending::<()>())
            .await
    });

    let mut client = TcpStream::connect(addr).await.unwrap();
    let stalled = stall(&mut client).await;
    serving.abort();
    stalled
}

async fn stall_against_axum() -> Stalled {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = tokio::spawn(async move { axum::serve(listener, app()).await });

    let mut client = TcpStream::connect(addr).await.unwrap();
    let stalled = stall(&mut client).await;
    if stalled == Stalled::StillOpen {
        // Still open, and still serving: the rest of the head gets an answer.
        client.write_all(b"st\r\n\r\n").await.unwrap();
        let (head, body) = read_response(&mut client).await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert_eq!(body, "hello");
    }
    serving.abort();
    stalled
}

//! The connection cap and graceful shutdown over real TCP.
//!
//! Every wait here is on an event (a response, a closed socket); the
//! timeouts around them are only there so a bug fails the test instead of
//! hanging it.

use std::sync::Arc;
use std::time::Duration;

use axum::{routing::get, Router};
use seawall_handshake::serve::{Server, Stopped};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

use crate::{get_once, read_response, TestRecorder};

const SAFETY: Duration = Duration::from_secs(5);

/// `/` answers at once; `/slow` says it started, then waits to be released.
fn app(started: mpsc::Sender<()>, release: Arc<Notify>) -> Router {
    let slow = move || {
        let started = started.clone();
        let release = release.clone();
        async move {
            started.send(()).await.unwrap();
            release.notified().await;
            "slow"
        }
    };
    crate::app().route("/slow", get(slow))
}

struct Running {
    addr: std::net::SocketAddr,
    stop: oneshot::Sender<()>,
    serving: JoinHandle<Stopped>,
    started: mpsc::Receiver<()>,
    release: Arc<Notify>,
}

async fn start(server: Server) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, signal) = oneshot::channel::<()>();
    let (started_tx, started) = mpsc::channel(4);
    let release = Arc::new(Notify::new());
    let app = app(started_tx, release.clone());
    let serving = tokio::spawn(async move {
        let shutdown = async {
            let _ = signal.await;
        };
        server.serve(listener, app, shutdown).await
    });
    Running {
        addr,
        stop,
        serving,
        started,
        release,
    }
}

async fn read_to_end(client: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(SAFETY, client.read_to_end(&mut bytes)).await;
    // A reset after the last byte is as good as an end here.
    let _ = read.expect("the server closes the connection");
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn over_the_cap_a_connection_gets_a_503_and_is_closed() {
    let recorder = TestRecorder::default();
    let server = metrics::with_local_recorder(&recorder, || {
        Server::builder()
            .name("capped")
            .max_connections(1)
            .build()
            .unwrap()
    });
    let running = start(server).await;

    let mut first = TcpStream::connect(running.addr).await.unwrap();
    let (head, _) = get_once(&mut first).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");

    let mut second = TcpStream::connect(running.addr).await.unwrap();
    let refusal = read_to_end(&mut second).await.to_lowercase();
    assert!(refusal.starts_with("http/1.1 503"), "{refusal}");
    assert!(refusal.contains("retry-after: 1\r\n"), "{refusal}");

    // The connection within the cap is untouched.
    let (head, body) = get_once(&mut first).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, "hello");
    let refused = "seawall_handshake_connections_refused_total{name=capped}";
    assert_eq!(recorder.value(refused), Some(1.0));
    let open = "seawall_handshake_connections_open{name=capped}";
    assert_eq!(recorder.value(open), Some(1.0));
    running.serving.abort();
}

#[tokio::test]
async fn shutdown_closes_idle_connections_and_lets_the_request_in_progress_finish() {
    let server = Server::builder().build().unwrap();
    let mut running = start(server).await;

    let mut idle = TcpStream::connect(running.addr).await.unwrap();
    let (head, _) = get_once(&mut idle).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let mut busy = TcpStream::connect(running.addr).await.unwrap();
    busy.write_all(b"GET /slow HTTP/1.1\r\nhost: test\r\n\r\n")
        .await
        .unwrap();
    running.started.recv().await.unwrap();

    running.stop.send(()).unwrap();

    // The idle keep-alive connection is closed without waiting...
    assert_eq!(read_to_end(&mut idle).await, "");
    // ...and the listener is gone, so nothing new gets in.
    assert!(TcpStream::connect(running.addr).await.is_err());

    // The request in progress finishes, and its connection then closes.
    running.release.notify_one();
    let (head, body) = read_response(&mut busy).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    assert_eq!(body, "slow");
    assert_eq!(read_to_end(&mut busy).await, "");

    let stopped = tokio::time::timeout(SAFETY, running.serving)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stopped.forced(), 0);
}

#[tokio::test]
async fn shutdown_cuts_what_is_left_at_its_bound() {
    let recorder = TestRecorder::default();
    let server = metrics::with_local_recorder(&recorder, || {
        Server::builder()
            .name("bounded")
            .shutdown_timeout(Duration::from_millis(100))
            .build()
            .unwrap()
    });
    let mut running = start(server).await;
    let mut stuck = TcpStream::connect(running.addr).await.unwrap();
    stuck
        .write_all(b"GET /slow HTTP/1.1\r\nhost: test\r\n\r\n")
        .await
        .unwrap();
    running.started.recv().await.unwrap();

    running.stop.send(()).unwrap();
    let stopped = tokio::time::timeout(SAFETY, running.serving)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(stopped.forced(), 1);
    assert_eq!(read_to_end(&mut stuck).await, "", "cut without an answer");
    let cut = "seawall_handshake_connections_timed_out_total{name=bounded,phase=shutdown}";
    assert_eq!(recorder.value(cut), Some(1.0));
    let open = "seawall_handshake_connections_open{name=bounded}";
    assert_eq!(recorder.value(open), Some(0.0));
}

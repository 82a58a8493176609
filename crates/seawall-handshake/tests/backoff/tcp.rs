//! Over real TCP: an axum upstream answers `503` with `Retry-After: 2`
//! and counts its requests.
//!
//! The client runs on a current-thread runtime with paused time and holds
//! no timer, so that clock moves only with `tokio::time::advance`; the
//! upstream and the guard that bounds the test run on another runtime with
//! real time.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::State;
use axum::{routing::get, Router};
use http::{header, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use seawall_core::BoxError;
use seawall_handshake::backoff::{Backoff, BackoffLayer, UpstreamBackoff};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Builder;
use tokio::sync::oneshot;
use tokio::time::advance;
use tower::{Layer, Service, ServiceExt};
/// Bounds the TCP test on the wall clock, from the upstream's runtime.
const GUARD: Duration = Duration::from_secs(30);

/// An upstream that counts its requests and always asks for two seconds.
async fn busy_upstream(
    State(requests): State<Arc<AtomicUsize>>,
) -> impl axum::response::IntoResponse {
    requests.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "2")],
    )
}

async fn start_upstream() -> (Arc<AtomicUsize>, SocketAddr) {
    let requests = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("an address");
    let router = Router::new()
        .route("/", get(busy_upstream))
        .with_state(requests.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (requests, addr)
}

/// A minimal HTTP/1 client that opens a new connection for every call and
/// sets no timer, so the paused clock stands still while it waits.
#[derive(Clone)]
struct Connector {
    addr: SocketAddr,
}

type Call = Pin<Box<dyn Future<Output = Result<Response<Incoming>, BoxError>> + Send>>;

impl Service<Request<Empty<Bytes>>> for Connector {
    type Response = Response<Incoming>;
    type Error = BoxError;
    type Future = Call;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Empty<Bytes>>) -> Call {
        let addr = self.addr;
        Box::pin(async move {
            let stream = TcpStream::connect(addr).await?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            Ok(sender.send_request(request).await?)
        })
    }
}

/// One call over TCP: the upstream's status, or the back-off's refusal.
async fn get_over_tcp(
    client: &Backoff<Connector>,
    addr: SocketAddr,
) -> Result<StatusCode, UpstreamBackoff> {
    let request = Request::get("/")
        .header(header::HOST, addr.to_string())
        .body(Empty::new())
        .expect("a valid request");
    match client.clone().oneshot(request).await {
        Ok(response) => {
            let status = response.status();
            response.into_body().collect().await.expect("the body");
            Ok(status)
        }
        Err(error) => match error.downcast::<UpstreamBackoff>() {
            Ok(refusal) => Err(*refusal),
            Err(other) => panic!("an error that is not the back-off's: {other}"),
        },
    }
}

async fn tcp_scenario(requests: Arc<AtomicUsize>, addr: SocketAddr) {
    let client = BackoffLayer::new().layer(Connector { addr });
    let busy = Ok(StatusCode::SERVICE_UNAVAILABLE);

    assert_eq!(get_over_tcp(&client, addr).await, busy);
    assert_eq!(requests.load(Ordering::SeqCst), 1);

    // The paused clock did not move while the client waited on I/O, so the
    // whole two seconds are left, and nothing reaches the upstream.
    for _ in 0..5 {
        let refusal = get_over_tcp(&client, addr).await.expect_err("refused");
        assert_eq!(refusal.retry_after(), Duration::from_secs(2));
        assert_eq!(refusal.authority(), addr.to_string());
    }
    advance(Duration::from_millis(1999)).await;
    let refusal = get_over_tcp(&client, addr).await.expect_err("refused");
    assert_eq!(refusal.retry_after(), Duration::from_millis(1));
    assert_eq!(requests.load(Ordering::SeqCst), 1);

    // Once the time has passed, one call goes through, and its answer
    // starts the next back-off.
    advance(Duration::from_millis(1)).await;
    assert_eq!(get_over_tcp(&client, addr).await, busy);
    assert_eq!(requests.load(Ordering::SeqCst), 2);
    get_over_tcp(&client, addr)
        .await
        .expect_err("refused again");
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

#[test]
fn over_tcp_no_request_reaches_the_upstream_until_its_retry_after_has_passed() {
    let server = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime for the upstream");
    let (requests, addr) = server.block_on(start_upstream());

    let (done, finished) = oneshot::channel();
    let client = std::thread::spawn(move || {
        let paused = Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a paused runtime for the client");
        paused.block_on(tcp_scenario(requests, addr));
        let _ = done.send(());
    });

    // A scenario that panics drops `done`, which ends the wait at once.
    let waited = server.block_on(async { tokio::time::timeout(GUARD, finished).await });
    assert!(waited.is_ok(), "the scenario did not finish in {GUARD:?}");
    if let Err(panic) = client.join() {
        std::panic::resume_unwind(panic);
    }
}

//! A bulkhead of two in front of an axum router, over real TCP and through
//! `oneshot`: at most two handlers run at once, and everyone else gets a 503
//! with `Retry-After` straight away.
//!
//! The handlers block on a gate that opens only after the eight refusals have
//! arrived, so the test does not depend on timing: while the gate is shut,
//! both permits are held, and every other request must be refused.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::{routing::get, Router};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use seawall::bulkhead::{BulkheadHandle, BulkheadLayer};
use seawall::http::ErrorResponseLayer;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower::{ServiceBuilder, ServiceExt};

const REQUESTS: usize = 10;
const PERMITS: usize = 2;

/// Counts handlers running now and the most that ever ran at once, and holds
/// each handler until the gate opens.
#[derive(Clone)]
struct Probe {
    running: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    entered: mpsc::UnboundedSender<()>,
    gate: watch::Receiver<bool>,
}

async fn handler(State(probe): State<Probe>) -> &'static str {
    let now = probe.running.fetch_add(1, Ordering::SeqCst) + 1;
    probe.most.fetch_max(now, Ordering::SeqCst);
    let _ = probe.entered.send(());

    let mut gate = probe.gate.clone();
    let _ = gate.wait_for(|open| *open).await;

    probe.running.fetch_sub(1, Ordering::SeqCst);
    "done"
}

struct Fixture {
    router: Router,
    bulkhead: BulkheadHandle,
    most: Arc<AtomicUsize>,
    entered: mpsc::UnboundedReceiver<()>,
    open_gate: watch::Sender<bool>,
}

fn fixture() -> Fixture {
    let (open_gate, gate) = watch::channel(false);
    let (entered_tx, entered) = mpsc::unbounded_channel();
    let most = Arc::new(AtomicUsize::new(0));
    let probe = Probe {
        running: Arc::new(AtomicUsize::new(0)),
        most: most.clone(),
        entered: entered_tx,
        gate,
    };

    let bulkhead = BulkheadLayer::builder()
        .name("handlers")
        .max_in_flight(PERMITS)
        .retry_after(Duration::from_secs(2))
        .build()
        .expect("a valid bulkhead");
    let handle = bulkhead.handle();
    let router = Router::new()
        .route("/", get(handler))
        .with_state(probe)
        .layer(
            ServiceBuilder::new()
                .layer(ErrorResponseLayer::new())
                .layer(bulkhead.into_http()),
        );
    Fixture {
        router,
        bulkhead: handle,
        most,
        entered,
        open_gate,
    }
}

/// One answer: the status and the `Retry-After` header.
type Answer = (StatusCode, Option<String>);

async fn get_over_tcp(addr: SocketAddr) -> Answer {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let request = Request::get("/")
        .header("host", addr.to_string())
        .body(Empty::<Bytes>::new())
        .expect("a valid request");
    let response = sender.send_request(request).await.expect("a response");
    let answer = answer_of(response.status(), response.headers());
    response.into_body().collect().await.expect("the body");
    answer
}

fn answer_of(status: StatusCode, headers: &axum::http::HeaderMap) -> Answer {
    let retry_after = headers
        .get("retry-after")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (status, retry_after)
}

/// Collects the refusals, checks that the two admitted requests are inside
/// the handler, opens the gate and collects the rest.
async fn check(mut fixture: Fixture, mut answers: mpsc::UnboundedReceiver<Answer>) {
    let mut refused = 0;
    while refused < REQUESTS - PERMITS {
        let (status, retry_after) = answers.recv().await.expect("an answer");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry_after.as_deref(), Some("2"));
        refused += 1;
    }
    for _ in 0..PERMITS {
        fixture.entered.recv().await.expect("a handler started");
    }
    assert_eq!(fixture.bulkhead.in_flight(), PERMITS);

    fixture.open_gate.send(true).expect("handlers are waiting");
    for _ in 0..PERMITS {
        let (status, retry_after) = answers.recv().await.expect("an answer");
        assert_eq!(status, StatusCode::OK);
        assert_eq!(retry_after, None);
    }

    assert_eq!(fixture.most.load(Ordering::SeqCst), PERMITS);
    assert!(fixture.entered.try_recv().is_err(), "a refused request ran");
    assert_eq!(fixture.bulkhead.in_flight(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tcp_ten_connections_get_two_permits() {
    let fixture = fixture();
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("an address");
    let router = fixture.router.clone();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let (tx, answers) = mpsc::unbounded_channel();
    for _ in 0..REQUESTS {
        let tx = tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(get_over_tcp(addr).await);
        });
    }
    tokio::time::timeout(Duration::from_secs(30), check(fixture, answers))
        .await
        .expect("the test finished");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_a_service_with_oneshot() {
    let fixture = fixture();

    let (tx, answers) = mpsc::unbounded_channel();
    for _ in 0..REQUESTS {
        let tx = tx.clone();
        let router = fixture.router.clone();
        tokio::spawn(async move {
            let request = Request::get("/").body(Body::empty()).expect("a request");
            let response = router.oneshot(request).await.expect("infallible");
            let answer = answer_of(response.status(), response.headers());
            response.into_body().collect().await.expect("the body");
            let _ = tx.send(answer);
        });
    }
    tokio::time::timeout(Duration::from_secs(30), check(fixture, answers))
        .await
        .expect("the test finished");
}

//! A shedder with a limit of two in front of an axum router, over real TCP
//! with a connection per request and through `oneshot`: axum builds a
//! service per connection, yet at most two handlers run at once, and
//! everyone else is shed with a 503 and `Retry-After` straight away.
//!
//! The limit is fixed so that the test does not depend on what a learned
//! limit would be; the handlers block on a gate that opens only after the
//! eight refusals have arrived, so while the gate is shut both slots are
//! held and every other request must be shed.

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
use seawall::http::ErrorResponseLayer;
use seawall::shed::limit::Fixed;
use seawall::shed::{ShedHandle, ShedLayer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower::{ServiceBuilder, ServiceExt};

const REQUESTS: usize = 10;
const LIMIT: usize = 2;

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
    shed: ShedHandle,
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

    let shed = ShedLayer::builder()
        .name("handlers")
        .algorithm(Fixed::new(LIMIT).expect("a valid limit"))
        .retry_after(Duration::from_secs(2))
        .build()
        .expect("a valid shedder");
    let handle = shed.handle();
    let router = Router::new()
        .route("/", get(handler))
        .with_state(probe)
        .layer(
            ServiceBuilder::new()
                .layer(ErrorResponseLayer::new())
                .layer(shed),
        );
    Fixture {
        router,
        shed: handle,
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
    while refused < REQUESTS - LIMIT {
        let (status, retry_after) = answers.recv().await.expect("an answer");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry_after.as_deref(), Some("2"));
        refused += 1;
    }
    for _ in 0..LIMIT {
        fixture.entered.recv().await.expect("a handler started");
    }
    assert_eq!(fixture.shed.in_flight(), LIMIT);

    fixture.open_gate.send(true).expect("handlers are waiting");
    for _ in 0..LIMIT {
        let (status, retry_after) = answers.recv().await.expect("an answer");
        assert_eq!(status, StatusCode::OK);
        assert_eq!(retry_after, None);
    }

    assert_eq!(fixture.most.load(Ordering::SeqCst), LIMIT);
    assert!(fixture.entered.try_recv().is_err(), "a refused request ran");
    assert_eq!(fixture.shed.in_flight(), 0);
    assert_eq!(fixture.shed.shed(), (REQUESTS - LIMIT) as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tcp_ten_connections_share_one_limit_of_two() {
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

#[tokio::test]
async fn the_default_learned_limit_fronts_a_router() {
    let shed = ShedLayer::builder().name("api").build().expect("defaults");
    let handle = shed.handle();
    let router: Router = Router::new().route("/", get(|| async { "hello" })).layer(
        ServiceBuilder::new()
            .layer(ErrorResponseLayer::new())
            .layer(shed),
    );
    for _ in 0..3 {
        let request = Request::get("/").body(Body::empty()).expect("a request");
        let response = router.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.expect("the body");
        assert_eq!(body.to_bytes(), "hello");
    }
    assert_eq!(handle.algorithm(), "gradient");
    assert_eq!(handle.in_flight(), 0);
    assert_eq!(handle.shed(), 0);
}

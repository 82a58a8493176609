//! A circuit breaker on the client side of a real upstream over TCP: the
//! upstream (an axum server) starts failing, the breaker opens after the
//! configured failures counted across many clients and connections, calls
//! then fail fast without reaching the upstream, and successful probes close
//! it again.
//!
//! Eight clients, clones of two services built by one layer, each send one
//! request at a time on a connection of its own, so one breaker sees many
//! clones, many `Layer::layer` services and many connections. The traffic
//! goes in rounds: every client sends one request and the round ends when
//! all have answered, so which calls were admitted never depends on timing.
//!
//! # Time
//!
//! The open period must pass without a wall-clock sleep. The client side
//! runs on a current-thread runtime with paused time, and the test moves
//! that clock with `tokio::time::advance`. A paused clock jumps by itself
//! only when its runtime is idle with a timer pending, so the client runtime
//! holds no timer at all: the breaker arms none, this hand-written hyper
//! client sets none, and the guard that bounds the test runs on the
//! server's runtime, which keeps real time in another thread. While the
//! client waits for the upstream, its runtime parks on I/O and its clock
//! stands still; the refusals' `retry_after` being exactly the open
//! duration checks that.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, Request, Response, StatusCode};
use axum::serve::ListenerExt;
use axum::{routing::get, Router};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use seawall::breaker::error::CircuitOpen;
use seawall::breaker::{BreakerConfig, BreakerState, CircuitBreaker, CircuitBreakerLayer};
use seawall::http::HttpClassifier;
use seawall::{BoxError, Rejection};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Builder;
use tokio::sync::{oneshot, watch};
use tower::{Layer, Service, ServiceExt};

const CLIENTS: usize = 8;
const OPEN: Duration = Duration::from_secs(5);
const PROBES: usize = 4;
const GUARD: Duration = Duration::from_secs(60);

/// The upstream: what it answers, and what it saw.
struct Upstream {
    failing: AtomicBool,
    /// Requests that reached a handler; a watch, so the test can wait for
    /// the probes to arrive.
    requests: watch::Sender<usize>,
    connections: AtomicUsize,
    /// Handlers answer once this is `true`.
    gate: watch::Sender<bool>,
}

impl Upstream {
    fn requests(&self) -> usize {
        *self.requests.borrow()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn upstream_handler(State(upstream): State<Arc<Upstream>>) -> (StatusCode, &'static str) {
    upstream.requests.send_modify(|n| *n += 1);
    let mut gate = upstream.gate.subscribe();
    let _ = gate.wait_for(|open| *open).await;
    if upstream.failing.load(Ordering::SeqCst) {
        (StatusCode::INTERNAL_SERVER_ERROR, "down")
    } else {
        (StatusCode::OK, "up")
    }
}

async fn start_upstream() -> (Arc<Upstream>, SocketAddr) {
    let upstream = Arc::new(Upstream {
        failing: AtomicBool::new(false),
        requests: watch::Sender::new(0),
        connections: AtomicUsize::new(0),
        gate: watch::Sender::new(true),
    });
    let counted = upstream.clone();
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("an address");
    let listener = listener.tap_io(move |_| {
        counted.connections.fetch_add(1, Ordering::SeqCst);
    });
    let router = Router::new()
        .route("/", get(upstream_handler))
        .with_state(upstream.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (upstream, addr)
}

/// A minimal HTTP/1 client that opens a new connection for every call.
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

type Client = CircuitBreaker<Connector, HttpClassifier>;

/// What one call got.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Status(StatusCode),
    Refused(CircuitOpen),
}

async fn call_once(mut client: Client, addr: SocketAddr) -> Answer {
    let request = Request::get("/")
        .header(header::HOST, addr.to_string())
        .body(Empty::new())
        .expect("a valid request");
    let ready = client
        .ready()
        .await
        .expect("the breaker never fails readiness");
    match ready.call(request).await {
        Ok(response) => {
            let status = response.status();
            response.into_body().collect().await.expect("the body");
            Answer::Status(status)
        }
        Err(error) => match error.downcast::<CircuitOpen>() {
            Ok(open) => Answer::Refused(*open),
            Err(other) => panic!("an error that is not the breaker's: {other}"),
        },
    }
}

/// Every client sends one request at once; the answers come back in the
/// clients' order.
async fn round(clients: &[Client], addr: SocketAddr) -> Vec<Answer> {
    let calls: Vec<_> = clients
        .iter()
        .map(|client| tokio::spawn(call_once(client.clone(), addr)))
        .collect();
    let mut answers = Vec::with_capacity(calls.len());
    for call in calls {
        answers.push(call.await.expect("the call did not panic"));
    }
    answers
}

fn assert_all(answers: &[Answer], expected: &Answer) {
    assert!(
        answers.iter().all(|answer| answer == expected),
        "expected every answer to be {expected:?}, got {answers:?}"
    );
}

async fn scenario(upstream: Arc<Upstream>, addr: SocketAddr) {
    let config = BreakerConfig::builder()
        .name("upstream")
        .count_window(16)
        .minimum_calls(16)
        .failure_rate(0.5)
        .open_duration(OPEN)
        .half_open_probes(PROBES as u32)
        .half_open_success_ratio(1.0)
        .build()
        .expect("a valid breaker");
    let layer = CircuitBreakerLayer::new(config).with_classifier(HttpClassifier);
    let breaker = layer.handle();
    let services = [
        layer.layer(Connector { addr }),
        layer.layer(Connector { addr }),
    ];
    let clients: Vec<Client> = (0..CLIENTS).map(|i| services[i % 2].clone()).collect();
    let ok = Answer::Status(StatusCode::OK);

    // Healthy: every call reaches the upstream, each on its own connection.
    assert_all(&round(&clients, addr).await, &ok);
    assert_eq!(upstream.requests(), CLIENTS);
    assert_eq!(upstream.connections(), CLIENTS);
    assert_eq!(breaker.state(), BreakerState::Closed);

    // Failing: eight failures after eight successes make a failure rate of
    // one half in a full window of sixteen, so the last of them trips it.
    upstream.failing.store(true, Ordering::SeqCst);
    let failed = Answer::Status(StatusCode::INTERNAL_SERVER_ERROR);
    assert_all(&round(&clients, addr).await, &failed);
    let stats = breaker.stats();
    assert_eq!(stats.state, BreakerState::Open);
    assert_eq!((stats.calls, stats.failures), (16, 8));
    assert_eq!(stats.trips, 1);
    assert_eq!(stats.retry_after, Some(OPEN));
    assert_eq!(upstream.requests(), 2 * CLIENTS);

    // Open: every call is refused at once, before a connection is made.
    for _ in 0..3 {
        for answer in round(&clients, addr).await {
            let Answer::Refused(open) = answer else {
                panic!("an open breaker let a call through: {answer:?}");
            };
            assert_eq!(open.name(), Some("upstream"));
            assert_eq!(open.retry_after(), Some(OPEN), "the paused clock moved");
        }
    }
    assert_eq!(breaker.stats().rejected, 3 * CLIENTS as u64);
    assert_eq!(upstream.requests(), 2 * CLIENTS);
    assert_eq!(upstream.connections(), 2 * CLIENTS);

    // The upstream recovers but holds its answers for now. Once the open
    // period is over, four probes go through and the other clients are
    // refused while they run.
    upstream.failing.store(false, Ordering::SeqCst);
    upstream.gate.send_replace(false);
    tokio::time::advance(OPEN).await;
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    let probes: Vec<_> = clients[..PROBES]
        .iter()
        .map(|client| tokio::spawn(call_once(client.clone(), addr)))
        .collect();
    let mut arrived = upstream.requests.subscribe();
    arrived
        .wait_for(|n| *n == 2 * CLIENTS + PROBES)
        .await
        .expect("the upstream is up");
    for answer in round(&clients[PROBES..], addr).await {
        assert!(matches!(answer, Answer::Refused(_)), "{answer:?}");
    }
    let stats = breaker.stats();
    assert_eq!(stats.state, BreakerState::HalfOpen);
    assert_eq!(stats.probes_in_flight, PROBES as u32);
    assert_eq!(upstream.requests(), 2 * CLIENTS + PROBES);

    // The probes succeed, and the breaker closes.
    upstream.gate.send_replace(true);
    for probe in probes {
        assert_eq!(probe.await.expect("the probe did not panic"), ok);
    }
    assert_eq!(breaker.state(), BreakerState::Closed);

    // Closed again: every call reaches the upstream.
    assert_all(&round(&clients, addr).await, &ok);
    assert_eq!(upstream.requests(), 3 * CLIENTS + PROBES);
    assert_eq!(upstream.connections(), 3 * CLIENTS + PROBES);
    assert_eq!(breaker.stats().trips, 1);
}

#[test]
fn opens_across_clients_fails_fast_and_closes_after_probes() {
    let server = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the upstream");
    let (upstream, addr) = server.block_on(start_upstream());

    let (done, finished) = oneshot::channel();
    let client = std::thread::spawn(move || {
        let paused = Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a paused runtime for the clients");
        paused.block_on(scenario(upstream, addr));
        let _ = done.send(());
    });

    // A scenario that panics drops `done`, which ends the wait at once.
    let waited = server.block_on(async { tokio::time::timeout(GUARD, finished).await });
    assert!(waited.is_ok(), "the scenario did not finish in {GUARD:?}");
    if let Err(panic) = client.join() {
        std::panic::resume_unwind(panic);
    }
}

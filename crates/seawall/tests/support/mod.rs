//! A router whose handler holds every request at a gate, for the tests that
//! check how many requests a layer lets through at once.
//!
//! Ten requests arrive, over real TCP with a connection each or through
//! `oneshot`. The layer under test admits some and refuses the rest with a
//! 503 and `Retry-After: 2`. The gate opens only after every refusal has
//! arrived, so the tests do not depend on timing: while it is shut, the
//! admitted requests are held inside the handler and every other request
//! must be refused.

// A module of each test binary that uses it, not a crate: its items are
// public to those binaries, and not every binary uses every item.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::{routing::get, Router};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower::ServiceExt;

/// Requests sent in each test.
pub const REQUESTS: usize = 10;

/// The `Retry-After` every refusal must carry.
pub const RETRY_AFTER: &str = "2";

/// The router, and what the test needs to watch and open the gate.
pub struct Gated {
    router: Router,
    most: Arc<AtomicUsize>,
    entered: mpsc::UnboundedReceiver<()>,
    open_gate: watch::Sender<bool>,
}

/// Counts handlers running now and the most that ever ran at once, and
/// holds each handler until the gate opens.
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

/// One answer: the status and the `Retry-After` header.
type Answer = (StatusCode, Option<String>);

impl Gated {
    /// The gated handler at `/`, wrapped by `layered`.
    pub fn new(layered: impl FnOnce(Router) -> Router) -> Self {
        let (open_gate, gate) = watch::channel(false);
        let (entered_tx, entered) = mpsc::unbounded_channel();
        let most = Arc::new(AtomicUsize::new(0));
        let probe = Probe {
            running: Arc::new(AtomicUsize::new(0)),
            most: most.clone(),
            entered: entered_tx,
            gate,
        };
        let router = layered(Router::new().route("/", get(handler)).with_state(probe));
        Gated {
            router,
            most,
            entered,
            open_gate,
        }
    }

    /// Serves the router with `axum::serve` on a loopback port and sends
    /// every request on a connection of its own; then [`check`]s.
    ///
    /// [`check`]: Self::check
    pub async fn over_tcp(self, admitted: usize, in_flight: impl Fn() -> usize) {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("an address");
        let router = self.router.clone();
        let server = tokio::spawn(async move { axum::serve(listener, router).await });

        let (tx, answers) = mpsc::unbounded_channel();
        for _ in 0..REQUESTS {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (status, headers) = get_over_tcp(addr).await;
                let _ = tx.send(answer_of(status, &headers));
            });
        }
        self.check(admitted, in_flight, answers).await;
        server.abort();
    }

    /// Sends every request to a clone of the router with `oneshot`; then
    /// [`check`]s.
    ///
    /// [`check`]: Self::check
    pub async fn through_oneshot(self, admitted: usize, in_flight: impl Fn() -> usize) {
        let (tx, answers) = mpsc::unbounded_channel();
        for _ in 0..REQUESTS {
            let tx = tx.clone();
            let router = self.router.clone();
            tokio::spawn(async move {
                let request = Request::get("/").body(Body::empty()).expect("a request");
                let response = router.oneshot(request).await.expect("infallible");
                let answer = answer_of(response.status(), response.headers());
                response.into_body().collect().await.expect("the body");
                let _ = tx.send(answer);
            });
        }
        self.check(admitted, in_flight, answers).await;
    }

    /// Collects the refusals, checks that the `admitted` requests are
    /// inside the handler and that the layer counts them `in_flight`, opens
    /// the gate and collects the rest; gives up after 30 s.
    async fn check(
        mut self,
        admitted: usize,
        in_flight: impl Fn() -> usize,
        mut answers: mpsc::UnboundedReceiver<Answer>,
    ) {
        let checks = async {
            for _ in 0..REQUESTS - admitted {
                let (status, retry_after) = answers.recv().await.expect("an answer");
                assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
                assert_eq!(retry_after.as_deref(), Some(RETRY_AFTER));
            }
            for _ in 0..admitted {
                self.entered.recv().await.expect("a handler started");
            }
            assert_eq!(in_flight(), admitted);

            self.open_gate.send(true).expect("handlers are waiting");
            for _ in 0..admitted {
                let (status, retry_after) = answers.recv().await.expect("an answer");
                assert_eq!(status, StatusCode::OK);
                assert_eq!(retry_after, None);
            }

            assert_eq!(self.most.load(Ordering::SeqCst), admitted);
            assert!(self.entered.try_recv().is_err(), "a refused request ran");
            assert_eq!(in_flight(), 0);
        };
        tokio::time::timeout(Duration::from_secs(30), checks)
            .await
            .expect("the test finished");
    }
}

/// Sends `GET /` to `addr` on a connection of its own; returns the status
/// and headers once the body has been read.
pub async fn get_over_tcp(addr: SocketAddr) -> (StatusCode, HeaderMap) {
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
    let (parts, body) = response.into_parts();
    body.collect().await.expect("the body");
    (parts.status, parts.headers)
}

fn answer_of(status: StatusCode, headers: &HeaderMap) -> Answer {
    let retry_after = headers
        .get("retry-after")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (status, retry_after)
}

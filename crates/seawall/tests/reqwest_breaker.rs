//! A `reqwest::Client` behind a circuit breaker, calling a real upstream
//! over loopback: the breaker opens after the configured failures counted
//! across clones, refuses calls without sending them, and hands out a
//! `CircuitOpen` that callers find by downcasting; a 503 with
//! `Retry-After` holds it open as long as the upstream asked.
//!
//! reqwest answers with its own `Response` and `Error`, which seawall-http's
//! `HttpClassifier` does not take; `ReqwestClassifier` (the `reqwest`
//! feature) judges them by the same table and reads `Retry-After`.
//!
//! # Time
//!
//! As in `axum_breaker.rs`: the upstream keeps real time on a runtime of
//! its own, and the clients run on a current-thread runtime with paused
//! time, moved only by `tokio::time::advance`. A paused clock jumps by
//! itself only when its runtime idles with a timer pending, so that runtime
//! holds none: reqwest sets no timeout and its idle-connection timer is off
//! (`pool_idle_timeout(None)`), and the guard that bounds each test runs on
//! the upstream's runtime. Exact `retry_after` values check that the clock
//! did not move while the clients waited for the upstream.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{routing::get, Router};
use reqwest::{Method, Url};
use seawall::breaker::error::CircuitOpen;
use seawall::breaker::{BreakerConfig, BreakerState, CircuitBreaker, CircuitBreakerLayer};
use seawall::http::ReqwestClassifier;
use seawall::rejection::{self, Pattern};
use seawall::{BoxError, Rejection};
use tokio::net::TcpListener;
use tokio::runtime::Builder;
use tokio::sync::oneshot;
use tower::{Service, ServiceBuilder, ServiceExt};

const GUARD: Duration = Duration::from_secs(60);
const BUSY_RETRY_AFTER: Duration = Duration::from_secs(2);

const HEALTHY: u8 = 0;
const FAILING: u8 = 1;
/// 503 with `Retry-After: 2`.
const BUSY: u8 = 2;

/// The upstream: what it answers, and how many requests reached it.
struct Upstream {
    url: Url,
    behaviour: AtomicU8,
    requests: AtomicUsize,
}

impl Upstream {
    fn set(&self, behaviour: u8) {
        self.behaviour.store(behaviour, Ordering::SeqCst);
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn upstream_handler(State(upstream): State<Arc<Upstream>>) -> Response {
    upstream.requests.fetch_add(1, Ordering::SeqCst);
    match upstream.behaviour.load(Ordering::SeqCst) {
        HEALTHY => (StatusCode::OK, "ok").into_response(),
        FAILING => (StatusCode::INTERNAL_SERVER_ERROR, "broken").into_response(),
        _ => {
            let retry_after = BUSY_RETRY_AFTER.as_secs().to_string();
            let headers = [(header::RETRY_AFTER, retry_after)];
            (StatusCode::SERVICE_UNAVAILABLE, headers, "busy").into_response()
        }
    }
}

async fn start_upstream() -> Arc<Upstream> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("an address");
    let upstream = Arc::new(Upstream {
        url: Url::parse(&format!("http://{addr}/")).expect("a valid URL"),
        behaviour: AtomicU8::new(HEALTHY),
        requests: AtomicUsize::new(0),
    });
    let router = Router::new()
        .route("/", get(upstream_handler))
        .with_state(upstream.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    upstream
}

/// Runs `scenario` on a paused current-thread runtime in a thread of its
/// own, against an upstream on a runtime with real time, which also bounds
/// the scenario's run.
fn against_upstream<F, Fut>(scenario: F)
where
    F: FnOnce(Arc<Upstream>) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let server = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime for the upstream");
    let upstream = server.block_on(start_upstream());

    let (done, finished) = oneshot::channel();
    let client = std::thread::spawn(move || {
        let paused = Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a paused runtime for the clients");
        paused.block_on(scenario(upstream));
        let _ = done.send(());
    });

    // A scenario that panics drops `done`, which ends the wait at once.
    let waited = server.block_on(async { tokio::time::timeout(GUARD, finished).await });
    assert!(waited.is_ok(), "the scenario did not finish in {GUARD:?}");
    if let Err(panic) = client.join() {
        std::panic::resume_unwind(panic);
    }
}

type Client = CircuitBreaker<reqwest::Client, ReqwestClassifier>;

fn client(config: BreakerConfig) -> Client {
    let reqwest = reqwest::Client::builder()
        .no_proxy()
        .pool_idle_timeout(None)
        .build()
        .expect("a reqwest client");
    ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(config).with_classifier(ReqwestClassifier))
        .service(reqwest)
}

/// Sends `GET url` on its own clone of `client`; the status, or the error.
async fn call(mut client: Client, url: Url) -> Result<StatusCode, BoxError> {
    let request = reqwest::Request::new(Method::GET, url);
    let response = client.ready().await?.call(request).await?;
    let status = response.status();
    response.bytes().await?;
    Ok(status)
}

/// `clones` clones of `client` call at once, each from a task of its own.
async fn round(client: &Client, url: &Url, clones: usize) -> Vec<Result<StatusCode, BoxError>> {
    let calls: Vec<_> = (0..clones)
        .map(|_| tokio::spawn(call(client.clone(), url.clone())))
        .collect();
    let mut results = Vec::with_capacity(clones);
    for call in calls {
        results.push(call.await.expect("the call did not panic"));
    }
    results
}

fn assert_statuses(results: &[Result<StatusCode, BoxError>], expected: StatusCode) {
    for result in results {
        match result {
            Ok(status) => assert_eq!(*status, expected),
            Err(error) => panic!("expected {expected}, got an error: {error}"),
        }
    }
}

/// The refusal in `result`, found the way a caller would.
fn refusal(result: &Result<StatusCode, BoxError>) -> &CircuitOpen {
    let error = match result {
        Ok(status) => panic!("the call went through: {status}"),
        Err(error) => error,
    };
    assert!(error.is::<CircuitOpen>());
    let found = rejection::find(&**error).expect("a seawall rejection");
    assert_eq!(found.pattern(), Pattern::CircuitBreaker);
    error
        .downcast_ref::<CircuitOpen>()
        .expect("the breaker's refusal")
}

#[test]
fn opens_across_clones_and_refused_calls_never_reach_the_upstream() {
    const OPEN: Duration = Duration::from_secs(3);
    const FAILURES: usize = 4;
    against_upstream(|upstream| async move {
        let config = BreakerConfig::builder()
            .name("api")
            .consecutive_failures(FAILURES as u32)
            .open_duration(OPEN)
            .half_open_probes(1)
            .build()
            .expect("a valid breaker");
        let client = client(config);
        let breaker = client.handle();
        let url = &upstream.url;

        assert_statuses(&round(&client, url, FAILURES).await, StatusCode::OK);
        assert_eq!(upstream.requests(), FAILURES);

        // One failure from each of four clones: four in a row.
        upstream.set(FAILING);
        let failed = round(&client, url, FAILURES).await;
        assert_statuses(&failed, StatusCode::INTERNAL_SERVER_ERROR);
        let stats = breaker.stats();
        assert_eq!(stats.state, BreakerState::Open);
        assert_eq!(stats.trips, 1);
        assert_eq!(stats.retry_after, Some(OPEN));
        assert_eq!(upstream.requests(), 2 * FAILURES);

        for result in round(&client, url, 8).await {
            let open = refusal(&result);
            assert_eq!(open.name(), Some("api"));
            assert_eq!(open.retry_after(), Some(OPEN), "the paused clock moved");
        }
        assert_eq!(breaker.stats().rejected, 8);
        assert_eq!(upstream.requests(), 2 * FAILURES, "a refused call was sent");

        // Recovered, and the open period over: one probe closes it.
        upstream.set(HEALTHY);
        tokio::time::advance(OPEN).await;
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert_statuses(&round(&client, url, 1).await, StatusCode::OK);
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_statuses(&round(&client, url, FAILURES).await, StatusCode::OK);
        assert_eq!(upstream.requests(), 3 * FAILURES + 1);
    });
}

#[test]
fn a_503_with_retry_after_holds_the_breaker_open_that_long() {
    // Much shorter than the upstream's Retry-After, and more failures than
    // one answer brings: only the header can open the breaker this long.
    const OPEN: Duration = Duration::from_millis(500);
    against_upstream(|upstream| async move {
        let config = BreakerConfig::builder()
            .name("api")
            .consecutive_failures(4)
            .open_duration(OPEN)
            .half_open_probes(1)
            .build()
            .expect("a valid breaker");
        let client = client(config);
        let breaker = client.handle();
        let url = &upstream.url;

        upstream.set(BUSY);
        let busy = round(&client, url, 1).await;
        assert_statuses(&busy, StatusCode::SERVICE_UNAVAILABLE);
        let stats = breaker.stats();
        assert_eq!(stats.state, BreakerState::Open);
        assert_eq!(stats.retry_after, Some(BUSY_RETRY_AFTER));
        let refused = round(&client, url, 1).await;
        assert_eq!(refusal(&refused[0]).retry_after(), Some(BUSY_RETRY_AFTER));

        // Past the breaker's own open duration, still open.
        tokio::time::advance(OPEN).await;
        let refused = round(&client, url, 1).await;
        let left = BUSY_RETRY_AFTER - OPEN;
        assert_eq!(refusal(&refused[0]).retry_after(), Some(left));

        // Open to the last millisecond the upstream asked for, then probing.
        let last = Duration::from_millis(1);
        tokio::time::advance(left - last).await;
        assert_eq!(breaker.state(), BreakerState::Open);
        let refused = round(&client, url, 1).await;
        assert_eq!(refusal(&refused[0]).retry_after(), Some(last));
        tokio::time::advance(last).await;
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert_eq!(upstream.requests(), 1, "a refused call was sent");

        upstream.set(HEALTHY);
        assert_statuses(&round(&client, url, 1).await, StatusCode::OK);
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(upstream.requests(), 2);
    });
}

#[test]
fn transport_errors_count_and_pass_through_unchanged() {
    against_upstream(|_| async move {
        // An upstream that hangs up on every connection without answering.
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("an address");
        let url = Url::parse(&format!("http://{addr}/")).expect("a valid URL");
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });

        let config = BreakerConfig::builder()
            .name("api")
            .consecutive_failures(2)
            .open_duration(Duration::from_secs(1))
            .build()
            .expect("a valid breaker");
        let client = client(config);
        let breaker = client.handle();

        for result in round(&client, &url, 2).await {
            let error = result.expect_err("the upstream hung up");
            let reqwest = error
                .downcast_ref::<reqwest::Error>()
                .expect("reqwest's error, not re-wrapped");
            assert!(!reqwest.is_timeout() && !reqwest.is_builder(), "{reqwest}");
        }
        assert_eq!(breaker.state(), BreakerState::Open);
        let connections = accepted.load(Ordering::SeqCst);
        assert!(connections >= 2, "{connections} connections");

        refusal(&round(&client, &url, 1).await[0]);
        assert_eq!(accepted.load(Ordering::SeqCst), connections);
    });
}

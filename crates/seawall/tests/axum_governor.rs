//! A rate limit of 5 a minute in front of an axum router, over real TCP:
//! of 20 requests, each on a connection of its own, exactly 5 reach the
//! handler and the other 15 get a 429 with `Retry-After` and the two
//! rate-limit fields, consistent with each other.
//!
//! The quota replenishes one request every 12 s, far longer than the test
//! runs, so the real time that passes cannot let a sixth request in: no
//! sleeps, and the outcome does not depend on timing.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{routing::get, Router};
use seawall::http::ErrorResponseLayer;
use seawall_governor::{Quota, RateLimitLayer};
use support::get_over_tcp;
use tokio::net::TcpListener;
use tower::ServiceBuilder;

const REQUESTS: usize = 20;
const BURST: u32 = 5;

async fn handler(State(served): State<Arc<AtomicUsize>>) -> &'static str {
    served.fetch_add(1, Ordering::SeqCst);
    "ok"
}

/// One answer: the status and the headers a refusal carries.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    retry_after: Option<u64>,
    policy: Option<String>,
    limit: Option<String>,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| v.to_str().expect("ascii").to_owned())
}

async fn answer_over_tcp(addr: SocketAddr) -> Answer {
    let (status, headers) = get_over_tcp(addr).await;
    Answer {
        status,
        retry_after: header(&headers, "retry-after")
            .map(|v| v.parse().expect("Retry-After in whole seconds")),
        policy: header(&headers, "ratelimit-policy"),
        limit: header(&headers, "ratelimit"),
    }
}

#[tokio::test]
async fn five_a_minute_admits_five_and_refuses_the_rest_with_429() {
    let served = Arc::new(AtomicUsize::new(0));
    let limit = RateLimitLayer::builder()
        .name("api")
        .quota(Quota::per_minute(BURST).named("per-minute"))
        .build()
        .expect("a valid rate limit");
    let limiter = limit.limiter();
    let router = Router::new()
        .route("/", get(handler))
        .with_state(served.clone())
        .layer(
            ServiceBuilder::new()
                .layer(ErrorResponseLayer::new())
                .layer(limit),
        );

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, router).await });

    let mut answers = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        answers.push(answer_over_tcp(addr).await);
    }

    let admitted = answers
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .count();
    assert_eq!(admitted, BURST as usize, "{answers:#?}");
    assert_eq!(served.load(Ordering::SeqCst), BURST as usize);
    // The burst is spent first: the first five in, every later one out.
    assert!(answers[..BURST as usize]
        .iter()
        .all(|a| a.status == StatusCode::OK && a.retry_after.is_none()));
    assert_eq!(limiter.refused(), (REQUESTS - BURST as usize) as u64);

    for refused in &answers[BURST as usize..] {
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{refused:?}");
        let retry_after = refused.retry_after.expect("a Retry-After");
        // The next request replenishes 12 s after the burst began.
        assert!((1..=12).contains(&retry_after), "{refused:?}");
        assert_eq!(
            refused.policy.as_deref(),
            Some("\"per-minute\";q=5;w=60"),
            "{refused:?}"
        );
        assert_eq!(
            refused.limit.as_deref(),
            Some(format!("\"per-minute\";r=0;t={retry_after}").as_str()),
            "{refused:?}"
        );
    }
}

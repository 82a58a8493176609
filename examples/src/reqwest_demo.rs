//! The `reqwest_client` example: a `reqwest::Client` behind a circuit
//! breaker, calling an upstream that breaks, recovers and then asks for
//! room.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use seawall::breaker::error::CircuitOpen;
use seawall::breaker::{
    BreakerConfig, BreakerHandle, BreakerState, CircuitBreaker, CircuitBreakerLayer,
};
use seawall::BoxError;
use tower::{Service, ServiceBuilder, ServiceExt};

use crate::upstream::{Behaviour, Upstream};
use seawall::http::ReqwestClassifier;

/// Failures in a row that open the breaker.
pub const FAILURES: u32 = 3;

/// The `Retry-After` the busy upstream sends, in seconds.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// The client stack: reqwest behind a breaker.
pub type Client = CircuitBreaker<reqwest::Client, ReqwestClassifier>;

/// What one call got.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// The upstream answered with this status.
    Answered(StatusCode),
    /// The breaker refused the call without sending it.
    Refused(CircuitOpen),
    /// reqwest failed (connect, protocol); the text of its error.
    Failed(String),
}

/// What the example saw, step by step.
#[derive(Debug)]
pub struct Report {
    /// Calls to the healthy upstream.
    pub healthy: Vec<Call>,
    /// Calls to the failing upstream until the breaker opened, each with the
    /// breaker's state after it.
    pub failing: Vec<(Call, BreakerState)>,
    /// Calls made while the breaker was open.
    pub refused: Vec<Call>,
    /// How many of those reached the upstream.
    pub reached_while_open: usize,
    /// The breaker's state once the open period was over.
    pub before_probe: BreakerState,
    /// The probe to the recovered upstream.
    pub probe: Call,
    /// The breaker's state after the probe.
    pub after_probe: BreakerState,
    /// The call answered with `503` and `Retry-After`.
    pub busy: Call,
    /// The breaker's state after it.
    pub after_busy: BreakerState,
    /// The next call, refused until the time the upstream asked for.
    pub busy_refusal: Call,
}

/// Calls `upstream` with `client` behind a breaker that opens for
/// `open_duration` after [`FAILURES`] failures in a row, switching the
/// upstream from healthy to failing, back to healthy, then to busy.
///
/// The client is a parameter so that a test can configure it; the example
/// passes one that ignores proxies, as a loopback upstream needs.
pub async fn run(
    upstream: &Upstream,
    client: reqwest::Client,
    open_duration: Duration,
) -> Result<Report, BoxError> {
    let layer = CircuitBreakerLayer::new(
        BreakerConfig::builder()
            .name("upstream")
            .consecutive_failures(FAILURES)
            .open_duration(open_duration)
            .half_open_probes(1)
            .build()?,
    )
    .with_classifier(ReqwestClassifier);
    let breaker = layer.handle();
    let stack: Client = ServiceBuilder::new().layer(layer).service(client);
    let url = Url::parse(&upstream.url())?;

    upstream.set(Behaviour::Healthy);
    let healthy = vec![call(&stack, &url).await, call(&stack, &url).await];

    upstream.set(Behaviour::Failing);
    let mut failing = Vec::new();
    while !is_open(&breaker) && failing.len() < 2 * FAILURES as usize {
        let answer = call(&stack, &url).await;
        failing.push((answer, breaker.state()));
    }

    let before = upstream.requests();
    let mut refused = Vec::new();
    for _ in 0..5 {
        refused.push(call(&stack, &url).await);
    }
    let reached_while_open = upstream.requests() - before;

    upstream.set(Behaviour::Healthy);
    tokio::time::sleep(open_duration).await;
    let before_probe = breaker.state();
    let probe = call(&stack, &url).await;
    let after_probe = breaker.state();

    upstream.set(Behaviour::Busy {
        retry_after_secs: BUSY_RETRY_AFTER_SECS,
    });
    let busy = call(&stack, &url).await;
    let after_busy = breaker.state();
    let busy_refusal = call(&stack, &url).await;

    Ok(Report {
        healthy,
        failing,
        refused,
        reached_while_open,
        before_probe,
        probe,
        after_probe,
        busy,
        after_busy,
        busy_refusal,
    })
}

/// Sends `GET url` on a clone of `stack`, as a task of its own would.
async fn call(stack: &Client, url: &Url) -> Call {
    let mut service = stack.clone();
    let request = reqwest::Request::new(Method::GET, url.clone());
    let result = match service.ready().await {
        Ok(ready) => ready.call(request).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(response) => {
            let status = response.status();
            // Reading the body lets the connection go back to the pool.
            let _ = response.bytes().await;
            Call::Answered(status)
        }
        Err(error) => match error.downcast::<CircuitOpen>() {
            Ok(open) => Call::Refused(*open),
            Err(other) => Call::Failed(other.to_string()),
        },
    }
}

fn is_open(breaker: &BreakerHandle) -> bool {
    breaker.state() == BreakerState::Open
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Answered(status) => write!(f, "{status}"),
            Call::Refused(open) => write!(f, "refused: {open}"),
            Call::Failed(error) => write!(f, "failed: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The example's scenario, checked. The upstream runs on a runtime of
    //! its own with real time; the client runs on a current-thread runtime
    //! with paused time, so the example's wait for the open period passes
    //! at once and exactly. That runtime holds no other timer (the client's
    //! idle-connection timer is off), so its clock moves only then.

    use seawall::Rejection;
    use tokio::runtime::Builder;
    use tokio::sync::oneshot;

    use super::*;

    const OPEN: Duration = Duration::from_secs(5);
    const GUARD: Duration = Duration::from_secs(60);

    fn check(report: &Report) {
        let ok = Call::Answered(StatusCode::OK);
        assert_eq!(report.healthy, [ok.clone(), ok.clone()]);

        let failed = Call::Answered(StatusCode::INTERNAL_SERVER_ERROR);
        let closed = BreakerState::Closed;
        let expected = [
            (failed.clone(), closed),
            (failed.clone(), closed),
            (failed, BreakerState::Open),
        ];
        assert_eq!(report.failing, expected);

        for call in &report.refused {
            let Call::Refused(open) = call else {
                panic!("an open breaker let a call through: {call}");
            };
            assert_eq!(open.retry_after(), Some(OPEN));
        }
        assert_eq!(report.reached_while_open, 0);

        assert_eq!(report.before_probe, BreakerState::HalfOpen);
        assert_eq!(report.probe, ok);
        assert_eq!(report.after_probe, BreakerState::Closed);

        assert_eq!(report.busy, Call::Answered(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(report.after_busy, BreakerState::Open);
        let Call::Refused(open) = &report.busy_refusal else {
            panic!(
                "the busy upstream was called again: {}",
                report.busy_refusal
            );
        };
        let asked = Duration::from_secs(BUSY_RETRY_AFTER_SECS);
        assert_eq!(open.retry_after(), Some(asked));
    }

    #[test]
    fn the_breaker_opens_fails_fast_recovers_and_honours_retry_after() {
        let server = Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the upstream");
        let upstream = server.block_on(Upstream::start()).expect("an upstream");

        let (done, finished) = oneshot::channel();
        let client = std::thread::spawn(move || {
            let paused = Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()
                .expect("a paused runtime for the client");
            let client = reqwest::Client::builder()
                .no_proxy()
                .pool_idle_timeout(None)
                .build()
                .expect("a client");
            let report = paused
                .block_on(run(&upstream, client, OPEN))
                .expect("the example runs");
            check(&report);
            let _ = done.send(());
        });

        // A scenario that panics drops `done`, which ends the wait at once.
        let waited = server.block_on(async { tokio::time::timeout(GUARD, finished).await });
        assert!(waited.is_ok(), "the example did not finish in {GUARD:?}");
        if let Err(panic) = client.join() {
            std::panic::resume_unwind(panic);
        }
    }
}

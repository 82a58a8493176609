//! Keyed breakers: one breaker per key from one layer, in a bounded map,
//! driven through tower-test's mock on a paused clock.

mod config;
mod contract;
mod eviction;
#[cfg(feature = "http")]
mod http_key;
mod isolation;
mod observe;

use std::time::Duration;

use seawall_breaker::error::BoxError;
use seawall_breaker::{BreakerConfig, KeyedBreakerConfig, KeyedCircuitBreakerLayer};
use tokio_test::assert_ready_ok;
use tower_test::mock;

/// A request to a host: the host is the key.
pub(crate) type Request = (&'static str, u32);
pub(crate) type Extractor = fn(&Request) -> &'static str;
pub(crate) type Layer = KeyedCircuitBreakerLayer<Extractor>;
pub(crate) type Mock = mock::Mock<Request, &'static str>;
pub(crate) type Handle = mock::Handle<Request, &'static str>;

pub(crate) fn host(request: &Request) -> &'static str {
    request.0
}

/// Two failures in a row trip a key; a probe is allowed 10 s later.
pub(crate) fn fragile(name: &'static str) -> BreakerConfig {
    BreakerConfig::builder()
        .name(name)
        .consecutive_failures(2)
        .open_duration(Duration::from_secs(10))
        .half_open_probes(1)
        .build()
        .unwrap()
}

pub(crate) fn layer(template: BreakerConfig, capacity: usize) -> Layer {
    let config = KeyedBreakerConfig::builder()
        .template(template)
        .capacity(capacity)
        .build()
        .unwrap();
    KeyedCircuitBreakerLayer::new(config, host as Extractor)
}

#[derive(Debug)]
pub(crate) struct UpstreamDown;

impl std::fmt::Display for UpstreamDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("upstream down")
    }
}

impl std::error::Error for UpstreamDown {}

/// Makes one call to `to` that reaches the mock and gets `answer`.
pub(crate) async fn call<S>(
    service: &mut mock::Spawn<S>,
    handle: &mut Handle,
    to: &'static str,
    answer: Result<&'static str, BoxError>,
) -> Result<&'static str, BoxError>
where
    S: tower::Service<Request, Response = &'static str, Error = BoxError>,
{
    assert_ready_ok!(service.poll_ready());
    let response = service.call((to, 0));
    let (request, send) = handle
        .next_request()
        .await
        .expect("the call reached the mock");
    assert_eq!(request.0, to);
    match answer {
        Ok(body) => send.send_response(body),
        Err(error) => send.send_error(error),
    }
    response.await
}

/// Makes one call to `to` that must be refused without reaching the mock.
pub(crate) async fn refused<S>(
    service: &mut mock::Spawn<S>,
    handle: &mut Handle,
    to: &'static str,
) -> BoxError
where
    S: tower::Service<Request, Response = &'static str, Error = BoxError>,
{
    assert_ready_ok!(service.poll_ready());
    let error = service
        .call((to, 0))
        .await
        .expect_err("the breaker refused");
    let mut next = tokio_test::task::spawn(handle.next_request());
    tokio_test::assert_pending!(next.poll(), "a refused call reached the mock");
    error
}

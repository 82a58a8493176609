//! The tower `Service` contract of `CircuitBreaker`, through tower-test's
//! mock on a paused clock.

use std::time::Duration;

use seawall_breaker::error::{BoxError, CircuitOpen};
use seawall_breaker::{BreakerConfig, BreakerConfigBuilder, BreakerState, CircuitBreakerLayer};
use seawall_core::rejection::{BulkheadFull, Elapsed, Phase};
use seawall_core::{Classify, FailureKind, Outcome, Rejection};
use tokio_test::{assert_pending, assert_ready_ok, task};
use tower::Layer;
use tower_test::mock;

type Handle = mock::Handle<&'static str, &'static str>;
type Mock = mock::Mock<&'static str, &'static str>;

fn layer(settings: BreakerConfigBuilder) -> CircuitBreakerLayer {
    CircuitBreakerLayer::new(settings.build().unwrap())
}

/// One failure trips it; a probe slot is free 10 s later.
fn fragile() -> BreakerConfigBuilder {
    BreakerConfig::builder()
        .consecutive_failures(1)
        .open_duration(Duration::from_secs(10))
        .half_open_probes(1)
}

#[derive(Debug, PartialEq)]
struct UpstreamDown;

impl std::fmt::Display for UpstreamDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("upstream down")
    }
}

impl std::error::Error for UpstreamDown {}

/// Makes one call that the mock answers with `answer`.
async fn call<S>(
    service: &mut mock::Spawn<S>,
    handle: &mut Handle,
    answer: Result<&'static str, BoxError>,
) -> Result<&'static str, BoxError>
where
    S: tower::Service<&'static str, Response = &'static str, Error = BoxError>,
{
    assert_ready_ok!(service.poll_ready());
    let response = service.call("request");
    let (_, send) = handle
        .next_request()
        .await
        .expect("the call reached the mock");
    match answer {
        Ok(body) => send.send_response(body),
        Err(error) => send.send_error(error),
    }
    response.await
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "without a successful poll_ready")]
async fn call_without_poll_ready_panics() {
    let (mock, _handle) = mock::pair::<&'static str, &'static str>();
    let mut service = layer(fragile()).layer(mock);
    drop(tower::Service::call(&mut service, "request"));
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "without a successful poll_ready")]
async fn a_clone_of_a_ready_service_is_not_ready() {
    let breaker = layer(fragile());
    let (mut service, _handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    assert_ready_ok!(service.poll_ready());
    let mut clone = service.clone();
    drop(clone.call("request"));
}

#[tokio::test(start_paused = true)]
async fn a_clone_does_not_share_its_parents_probe_slot() {
    let breaker = layer(fragile());
    let stats = breaker.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    call(&mut service, &mut handle, Err(UpstreamDown.into()))
        .await
        .unwrap_err();
    tokio::time::advance(Duration::from_secs(10)).await;

    // The parent takes the only probe slot; its clone is refused.
    assert_ready_ok!(service.poll_ready());
    assert_eq!(stats.stats().probes_in_flight, 1);
    let mut clone = service.clone();
    assert_ready_ok!(clone.poll_ready());
    let refused = clone.call("request").await.unwrap_err();
    assert!(refused.is::<CircuitOpen>());
    assert_eq!(stats.stats().probes_in_flight, 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_future_releases_the_probe_slot() {
    let breaker = layer(fragile());
    let handle_to = breaker.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    call(&mut service, &mut handle, Err(UpstreamDown.into()))
        .await
        .unwrap_err();
    tokio::time::advance(Duration::from_secs(10)).await;

    assert_ready_ok!(service.poll_ready());
    let mut probe = task::spawn(service.call("probe"));
    assert_pending!(probe.poll());
    let unanswered = handle.next_request().await.unwrap();
    assert_eq!(handle_to.stats().probes_in_flight, 1);
    drop(probe);
    drop(unanswered);
    assert_eq!(handle_to.stats().probes_in_flight, 0);
    assert_eq!(handle_to.state(), BreakerState::HalfOpen);

    // The slot is free for the next probe, which closes the breaker.
    call(&mut service, &mut handle, Ok("fine")).await.unwrap();
    assert_eq!(handle_to.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn dropping_a_ready_service_releases_the_probe_slot() {
    let breaker = layer(fragile());
    let stats = breaker.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    call(&mut service, &mut handle, Err(UpstreamDown.into()))
        .await
        .unwrap_err();
    tokio::time::advance(Duration::from_secs(10)).await;

    let (mut other, _other_handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    assert_ready_ok!(other.poll_ready());
    assert_eq!(stats.stats().probes_in_flight, 1);
    drop(other);
    assert_eq!(stats.stats().probes_in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn services_built_by_one_layer_share_one_breaker() {
    let breaker = layer(fragile());
    let (mut first, mut first_handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    let (mut second, mut second_handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));

    call(&mut first, &mut first_handle, Err(UpstreamDown.into()))
        .await
        .unwrap_err();

    // The second service, built by another `layer()` call, is refused
    // without its inner service seeing the request.
    assert_ready_ok!(second.poll_ready());
    let refused = second.call("request").await.unwrap_err();
    let open = refused
        .downcast_ref::<CircuitOpen>()
        .expect("a CircuitOpen");
    assert_eq!(open.retry_after(), Some(Duration::from_secs(10)));
    assert_eq!(open.name(), Some("circuit_breaker"));
    let mut next = task::spawn(second_handle.next_request());
    assert_pending!(next.poll());

    // A clone of the first is refused too.
    let mut clone = first.clone();
    assert_ready_ok!(clone.poll_ready());
    assert!(clone.call("request").await.unwrap_err().is::<CircuitOpen>());
    let mut next = task::spawn(first_handle.next_request());
    assert_pending!(next.poll());
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_sheds_without_waiting_for_the_inner_service() {
    let breaker = layer(fragile());
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    call(&mut service, &mut handle, Err(UpstreamDown.into()))
        .await
        .unwrap_err();

    // The inner service is not ready, yet the breaker is: it refuses.
    handle.allow(0);
    assert_ready_ok!(service.poll_ready());
    assert!(service
        .call("request")
        .await
        .unwrap_err()
        .is::<CircuitOpen>());
}

#[tokio::test(start_paused = true)]
async fn an_admitted_call_waits_for_the_inner_service() {
    let breaker = layer(fragile());
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    handle.allow(0);
    assert_pending!(service.poll_ready());
    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn inner_errors_pass_through_unchanged() {
    let breaker = layer(fragile());
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    let error = call(&mut service, &mut handle, Err(UpstreamDown.into()))
        .await
        .unwrap_err();
    assert_eq!(error.downcast_ref::<UpstreamDown>(), Some(&UpstreamDown));
    assert_eq!(error.to_string(), "upstream down");
}

#[tokio::test(start_paused = true)]
async fn another_layers_local_rejection_is_not_counted() {
    let breaker = layer(fragile());
    let stats = breaker.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    for _ in 0..3 {
        let error = call(&mut service, &mut handle, Err(BulkheadFull::new(4).into()))
            .await
            .unwrap_err();
        assert!(error.is::<BulkheadFull>());
    }
    let stats = stats.stats();
    assert_eq!(stats.state, BreakerState::Closed);
    assert_eq!((stats.calls, stats.consecutive_failures), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn a_timeout_counts_as_a_failure() {
    let breaker = layer(fragile());
    let stats = breaker.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    let timeout = Elapsed::new(Duration::from_secs(1), Phase::Response);
    call(&mut service, &mut handle, Err(timeout.into()))
        .await
        .unwrap_err();
    assert_eq!(stats.state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn slow_calls_are_timed_on_tokios_clock() {
    let breaker = layer(
        BreakerConfig::builder()
            .count_window(2)
            .minimum_calls(2)
            .failure_rate(None)
            .slow_call_duration(Duration::from_millis(500))
            .slow_call_rate(1.0),
    );
    let stats = breaker.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    for _ in 0..2 {
        assert_ready_ok!(service.poll_ready());
        let response = service.call("request");
        let (_, send) = handle.next_request().await.unwrap();
        tokio::time::advance(Duration::from_millis(501)).await;
        send.send_response("late");
        assert_eq!(response.await.unwrap(), "late");
    }
    let stats = stats.stats();
    assert_eq!(stats.slow_calls, 2);
    assert_eq!(stats.state, BreakerState::Open);
}

/// Reads `"503"` as a refusal by the upstream asking for 5 s.
#[derive(Clone, Copy)]
struct StatusClassifier;

impl Classify<&'static str, BoxError> for StatusClassifier {
    fn classify(&self, result: &Result<&'static str, BoxError>, _: Duration) -> Outcome {
        match result {
            Ok("503") => Outcome::Failure(FailureKind::Rejected),
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure(FailureKind::Error),
        }
    }

    fn retry_after(&self, result: &Result<&'static str, BoxError>) -> Option<Duration> {
        matches!(result, Ok("503")).then_some(Duration::from_secs(5))
    }
}

#[tokio::test(start_paused = true)]
async fn an_upstreams_retry_after_holds_the_breaker_open() {
    let breaker = layer(BreakerConfig::builder()).with_classifier(StatusClassifier);
    let stats = breaker.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    assert_eq!(
        call(&mut service, &mut handle, Ok("503")).await.unwrap(),
        "503"
    );
    assert_eq!(stats.state(), BreakerState::Open);

    tokio::time::advance(Duration::from_secs(2)).await;
    assert_ready_ok!(service.poll_ready());
    let refused = service.call("request").await.unwrap_err();
    let open = refused.downcast_ref::<CircuitOpen>().unwrap();
    assert_eq!(open.retry_after(), Some(Duration::from_secs(3)));

    tokio::time::advance(Duration::from_secs(3)).await;
    assert_eq!(stats.state(), BreakerState::HalfOpen);
}

#[tokio::test(start_paused = true)]
async fn a_forced_open_breaker_says_so() {
    let breaker = layer(BreakerConfig::builder().name("payments"));
    breaker.handle().force_open();
    let (mut service, _handle) = mock::spawn_with(|mock: Mock| breaker.layer(mock));
    assert_ready_ok!(service.poll_ready());
    let refused = service.call("request").await.unwrap_err();
    assert_eq!(refused.to_string(), "circuit \"payments\" forced open");
}

//! What a finished call teaches the algorithm: one sample per call with its
//! latency and concurrency, losses for timeouts and upstream refusals,
//! nothing for cancelled calls and other layers' refusals; and the limit
//! the algorithm returns is the one enforced.

mod support;

use std::time::Duration;

use seawall_core::rejection::{BulkheadFull, Elapsed, Phase};
use seawall_core::{BoxError, FailureKind, Outcome};
use seawall_shed::limit::Sample;
use seawall_shed::{Shed, ShedLayer};
use tokio_test::assert_ready_ok;
use tower_test::mock::{self, Spawn};

use support::{overloaded, Probe};

type Mock = mock::Mock<&'static str, &'static str>;
type Handle = mock::Handle<&'static str, &'static str>;

fn service(probe: &Probe) -> (Spawn<Shed<Mock>>, Handle) {
    let layer = ShedLayer::builder()
        .algorithm(probe.clone())
        .build()
        .unwrap();
    mock::spawn_layer(layer)
}

/// Calls once and answers with `answer` after `latency`.
async fn call(
    service: &mut Spawn<Shed<Mock>>,
    handle: &mut Handle,
    latency: Duration,
    answer: Result<&'static str, BoxError>,
) -> Result<&'static str, BoxError> {
    assert_ready_ok!(service.poll_ready());
    let response = service.call("request");
    let (_, send) = handle.next_request().await.unwrap();
    tokio::time::advance(latency).await;
    match answer {
        Ok(body) => send.send_response(body),
        Err(error) => send.send_error(error),
    }
    response.await
}

#[tokio::test(start_paused = true)]
async fn each_finished_call_is_one_sample_with_its_latency_and_concurrency() {
    let probe = Probe::new(4);
    let (mut service, mut handle) = service(&probe);

    // One call in flight while another runs: the second sees two.
    assert_ready_ok!(service.poll_ready());
    let first = service.call("first");
    let (_, first_send) = handle.next_request().await.unwrap();
    tokio::time::advance(Duration::from_millis(10)).await;
    call(
        &mut service,
        &mut handle,
        Duration::from_millis(30),
        Ok("ok"),
    )
    .await
    .unwrap();
    first_send.send_response("ok");
    first.await.unwrap();

    let samples = probe.samples();
    assert_eq!(
        samples,
        [
            Sample {
                latency: Duration::from_millis(30),
                in_flight: 2,
                dropped: false,
            },
            Sample {
                latency: Duration::from_millis(40),
                in_flight: 1,
                dropped: false,
            },
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn timeouts_are_losses_and_plain_errors_are_not() {
    let probe = Probe::new(4);
    let (mut service, mut handle) = service(&probe);
    let ms = Duration::from_millis(5);

    let elapsed = Elapsed::new(Duration::from_millis(5), Phase::Response);
    call(&mut service, &mut handle, ms, Err(elapsed.into()))
        .await
        .unwrap_err();
    call(&mut service, &mut handle, ms, Err("reset".into()))
        .await
        .unwrap_err();

    let dropped: Vec<_> = probe.samples().iter().map(|s| s.dropped).collect();
    assert_eq!(dropped, [true, false]);
}

#[tokio::test(start_paused = true)]
async fn other_layers_refusals_and_cancelled_calls_are_not_samples() {
    let probe = Probe::new(4);
    let (mut service, mut handle) = service(&probe);
    let shed = service.get_ref().handle();

    // A bulkhead below refused: local, says nothing about latency.
    let refused = call(
        &mut service,
        &mut handle,
        Duration::ZERO,
        Err(BulkheadFull::new(1).into()),
    )
    .await
    .unwrap_err();
    assert!(refused.is::<BulkheadFull>(), "passed through unchanged");

    // A cancelled call.
    assert_ready_ok!(service.poll_ready());
    let cancelled = service.call("cancelled");
    let _request = handle.next_request().await.unwrap();
    tokio::time::advance(Duration::from_secs(3)).await;
    drop(cancelled);

    assert!(probe.samples().is_empty(), "{:?}", probe.samples());
    assert_eq!(shed.in_flight(), 0, "yet both slots were freed");
}

#[tokio::test(start_paused = true)]
async fn a_classifier_decides_what_is_a_loss() {
    let probe = Probe::new(4);
    // An upstream that answers "busy" is refusing work: a loss.
    let classify = |result: &Result<&'static str, BoxError>, _: Duration| match result {
        Ok("busy") => Outcome::Failure(FailureKind::Rejected),
        Ok("ignore") => Outcome::Ignored,
        Ok(_) => Outcome::Success,
        Err(_) => Outcome::Failure(FailureKind::Error),
    };
    let layer = ShedLayer::builder()
        .algorithm(probe.clone())
        .classifier(classify)
        .build()
        .unwrap();
    let (mut service, mut handle) = mock::spawn_layer::<&'static str, &'static str, _>(layer);

    for answer in ["busy", "fine", "ignore"] {
        assert_ready_ok!(service.poll_ready());
        let response = service.call("request");
        let (_, send) = handle.next_request().await.unwrap();
        send.send_response(answer);
        assert_eq!(response.await.unwrap(), answer);
    }
    let dropped: Vec<_> = probe.samples().iter().map(|s| s.dropped).collect();
    assert_eq!(dropped, [true, false]);
}

#[tokio::test(start_paused = true)]
async fn the_published_limit_is_the_one_enforced() {
    let probe = Probe::new(1);
    let (mut service, mut handle) = service(&probe);
    let shed = service.get_ref().handle();
    assert_eq!(shed.limit(), 1);
    assert_eq!(shed.algorithm(), "probe");

    // The next sample raises the limit to 2: two calls fit.
    probe.set_limit(2);
    call(
        &mut service,
        &mut handle,
        Duration::from_millis(1),
        Ok("ok"),
    )
    .await
    .unwrap();
    assert_eq!(shed.limit(), 2);
    assert_ready_ok!(service.poll_ready());
    let a = service.call("a");
    assert_ready_ok!(service.poll_ready());
    let b = service.call("b");
    assert_ready_ok!(service.poll_ready());
    assert_eq!(overloaded(&service.call("c").await.unwrap_err()).limit(), 2);

    // A sample lowers it to 1; the calls in flight finish, and only one
    // fits again.
    probe.set_limit(1);
    let (_, send_a) = handle.next_request().await.unwrap();
    let (_, send_b) = handle.next_request().await.unwrap();
    send_a.send_response("a");
    a.await.unwrap();
    assert_eq!(shed.limit(), 1);
    assert_eq!(shed.in_flight(), 1);
    assert_ready_ok!(service.poll_ready());
    overloaded(&service.call("over").await.unwrap_err());
    send_b.send_response("b");
    b.await.unwrap();
    assert_ready_ok!(service.poll_ready());
    assert_eq!(shed.in_flight(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_algorithm_that_returns_zero_is_held_at_one() {
    let probe = Probe::new(1);
    let (mut service, mut handle) = service(&probe);
    probe.set_limit(0);
    call(
        &mut service,
        &mut handle,
        Duration::from_millis(1),
        Ok("ok"),
    )
    .await
    .unwrap();
    assert_eq!(service.get_ref().handle().limit(), 1);
    call(
        &mut service,
        &mut handle,
        Duration::from_millis(1),
        Ok("ok"),
    )
    .await
    .expect("one call still fits, so the limit can learn again");
}

#[tokio::test(start_paused = true)]
async fn an_algorithm_that_learns_nothing_is_never_fed_but_still_enforced() {
    let probe = Probe::deaf(1);
    let (mut service, mut handle) = service(&probe);

    call(
        &mut service,
        &mut handle,
        Duration::from_millis(5),
        Ok("ok"),
    )
    .await
    .unwrap();
    let timed_out = Err(Elapsed::new(Duration::from_millis(5), Phase::Response).into());
    call(
        &mut service,
        &mut handle,
        Duration::from_millis(5),
        timed_out,
    )
    .await
    .unwrap_err();
    assert!(probe.samples().is_empty(), "no sample, not even a loss");

    // Its limit of 1 still holds, and the slots came back.
    assert_ready_ok!(service.poll_ready());
    let held = service.call("held");
    let mut second = service.clone();
    assert_ready_ok!(second.poll_ready());
    let refusal = overloaded(&second.call("shed").await.unwrap_err());
    assert_eq!(refusal.limit(), 1);
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response("ok");
    held.await.unwrap();
}

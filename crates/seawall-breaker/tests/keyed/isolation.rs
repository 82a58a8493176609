//! One key's failures open only that key's breaker.

use std::time::Duration;

use seawall_breaker::error::CircuitOpen;
use seawall_breaker::BreakerState;
use seawall_core::Rejection;
use tower::Layer as _;
use tower_test::mock;

use crate::{call, fragile, layer, refused, Mock, UpstreamDown};

#[tokio::test(start_paused = true)]
async fn a_failing_host_opens_only_its_own_breaker() {
    let layer = layer(fragile("hosts"), 100);
    let breakers = layer.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| layer.layer(mock));

    call(&mut service, &mut handle, "b", Ok("fine"))
        .await
        .unwrap();
    for _ in 0..2 {
        let error = call(&mut service, &mut handle, "a", Err(UpstreamDown.into()))
            .await
            .unwrap_err();
        assert!(error.is::<UpstreamDown>(), "passed through: {error}");
    }

    // A is refused without reaching the upstream, and says who refused.
    let error = refused(&mut service, &mut handle, "a").await;
    let open = error.downcast_ref::<CircuitOpen>().expect("a CircuitOpen");
    assert_eq!(open.name(), Some("hosts/a"));
    assert_eq!(open.retry_after(), Some(Duration::from_secs(10)));

    // B, and a host never seen before, still go through.
    assert_eq!(
        call(&mut service, &mut handle, "b", Ok("fine"))
            .await
            .unwrap(),
        "fine"
    );
    assert_eq!(
        call(&mut service, &mut handle, "c", Ok("new"))
            .await
            .unwrap(),
        "new"
    );
    assert_eq!(
        breakers.keys(),
        [
            ("a".into(), BreakerState::Open),
            ("b".into(), BreakerState::Closed),
            ("c".into(), BreakerState::Closed),
        ]
    );
    assert_eq!(breakers.get("b").unwrap().stats().calls, 2);
}

#[tokio::test(start_paused = true)]
async fn each_key_probes_and_closes_on_its_own() {
    let layer = layer(fragile("hosts"), 100);
    let breakers = layer.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| layer.layer(mock));
    for host in ["a", "a", "b", "b"] {
        call(&mut service, &mut handle, host, Err(UpstreamDown.into()))
            .await
            .unwrap_err();
    }
    tokio::time::advance(Duration::from_secs(10)).await;

    // A's probe succeeds and closes A; B is still waiting for its probe.
    call(&mut service, &mut handle, "a", Ok("back"))
        .await
        .unwrap();
    assert_eq!(breakers.get("a").unwrap().state(), BreakerState::Closed);
    assert_eq!(breakers.get("b").unwrap().state(), BreakerState::HalfOpen);

    let probe = call(&mut service, &mut handle, "b", Err(UpstreamDown.into())).await;
    assert!(probe.is_err());
    assert_eq!(breakers.get("b").unwrap().state(), BreakerState::Open);
    refused(&mut service, &mut handle, "b").await;
    call(&mut service, &mut handle, "a", Ok("fine"))
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn services_from_one_layer_share_the_breakers() {
    let layer = layer(fragile("hosts"), 100);
    let (mut first, mut first_handle) = mock::spawn_with(|mock: Mock| layer.layer(mock));
    let (mut second, mut second_handle) = mock::spawn_with(|mock: Mock| layer.layer(mock));
    for _ in 0..2 {
        call(&mut first, &mut first_handle, "a", Err(UpstreamDown.into()))
            .await
            .unwrap_err();
    }
    let error = refused(&mut second, &mut second_handle, "a").await;
    assert!(error.is::<CircuitOpen>());
    let mut clone = second.clone();
    let error = refused(&mut clone, &mut second_handle, "a").await;
    assert!(error.is::<CircuitOpen>());
}

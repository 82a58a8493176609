//! The map holds at most its capacity, and evicts idle closed keys before
//! busy ones and busy ones before open ones.

use std::borrow::Cow;
use std::future::{ready, Ready};
use std::time::Duration;

use seawall_breaker::error::BoxError;
use seawall_breaker::{BreakerState, KeyExtractor, KeyedBreakerConfig, KeyedCircuitBreakerLayer};
use tokio_test::{assert_pending, assert_ready_ok, task};
use tower::{service_fn, Layer as _, Service, ServiceExt};
use tower_test::mock;

use crate::{call, fragile, layer, Mock, UpstreamDown};

/// Keys owned `String` requests by borrowing them.
#[derive(Clone)]
struct Owned;

impl KeyExtractor<String> for Owned {
    fn key<'a>(&self, request: &'a String) -> Cow<'a, str> {
        Cow::Borrowed(request)
    }
}

fn flood_layer(capacity: usize) -> KeyedCircuitBreakerLayer<Owned> {
    let config = KeyedBreakerConfig::builder()
        .capacity(capacity)
        .build()
        .unwrap();
    KeyedCircuitBreakerLayer::new(config, Owned)
}

fn answer(_: String) -> Ready<Result<(), BoxError>> {
    ready(Ok(()))
}

#[tokio::test(start_paused = true)]
async fn a_flood_of_distinct_keys_never_passes_the_capacity() {
    const CAPACITY: usize = 1_000;
    let keyed = flood_layer(CAPACITY);
    let breakers = keyed.handle();
    let mut service = keyed.layer(service_fn(answer));

    for i in 0..100_000 {
        service
            .ready()
            .await
            .unwrap()
            .call(format!("host-{i}"))
            .await
            .unwrap();
        assert!(
            breakers.len() <= CAPACITY,
            "{} keys after {i}",
            breakers.len()
        );
    }
    let held = breakers.keys().len();
    assert_eq!(held, breakers.len());
    assert!(held <= CAPACITY && held > CAPACITY / 2, "{held} keys held");
    assert_eq!(breakers.evictions(), 100_000 - held as u64);
    // The last key is always held: it was just added.
    assert!(breakers.get("host-99999").is_some());
}

#[test]
fn threads_racing_to_add_keys_never_pass_the_capacity() {
    const CAPACITY: usize = 600;
    let keyed = flood_layer(CAPACITY);
    let breakers = keyed.handle();
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let mut service = keyed.layer(service_fn(answer));
            let breakers = &breakers;
            scope.spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    for i in 0..5_000 {
                        let key = format!("thread-{thread}-host-{i}");
                        service.ready().await.unwrap().call(key).await.unwrap();
                        assert!(breakers.len() <= CAPACITY);
                    }
                });
            });
        }
    });
    let held = breakers.keys().len();
    assert_eq!(held, breakers.len());
    assert!(held <= CAPACITY);
    assert_eq!(breakers.evictions(), 20_000 - held as u64);
}

#[tokio::test(start_paused = true)]
async fn idle_closed_keys_go_first_and_open_keys_stay() {
    // Capacity 5 is one shard, where the order is exact.
    let keyed = layer(fragile("hosts"), 5);
    let breakers = keyed.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| keyed.layer(mock));
    for host in ["down-1", "down-1", "down-2", "down-2"] {
        call(&mut service, &mut handle, host, Err(UpstreamDown.into()))
            .await
            .unwrap_err();
    }
    for host in ["a", "b", "c", "b", "c"] {
        call(&mut service, &mut handle, host, Ok("fine"))
            .await
            .unwrap();
    }

    // Full: "a" is the least recently used idle key.
    call(&mut service, &mut handle, "d", Ok("fine"))
        .await
        .unwrap();
    assert!(breakers.get("a").is_none());
    assert_eq!(breakers.len(), 5);

    // A flood of new hosts takes only closed keys; the open ones stay.
    let flood = [
        "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r",
    ];
    for host in flood {
        call(&mut service, &mut handle, host, Ok("fine"))
            .await
            .unwrap();
        assert_eq!(breakers.get("down-1").unwrap().state(), BreakerState::Open);
        assert_eq!(breakers.get("down-2").unwrap().state(), BreakerState::Open);
        assert_eq!(breakers.len(), 5);
    }
    assert_eq!(breakers.evictions(), 1 + flood.len() as u64);
}

#[tokio::test(start_paused = true)]
async fn open_keys_go_only_when_nothing_else_is_held() {
    let keyed = layer(fragile("hosts"), 2);
    let breakers = keyed.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| keyed.layer(mock));
    for host in ["old", "old", "new", "new"] {
        call(&mut service, &mut handle, host, Err(UpstreamDown.into()))
            .await
            .unwrap_err();
    }
    // Both held keys are open: the least recently used one makes room.
    call(&mut service, &mut handle, "third", Ok("fine"))
        .await
        .unwrap();
    assert!(breakers.get("old").is_none());
    assert_eq!(breakers.get("new").unwrap().state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn a_key_in_use_keeps_its_state_while_idle_keys_are_evicted() {
    let keyed = layer(fragile("hosts"), 3);
    let breakers = keyed.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| keyed.layer(mock));

    // "flaky" fails once (one more trips it), then a call to it hangs.
    call(&mut service, &mut handle, "flaky", Err(UpstreamDown.into()))
        .await
        .unwrap_err();
    assert_ready_ok!(service.poll_ready());
    let mut hanging = task::spawn(service.call(("flaky", 1)));
    assert_pending!(hanging.poll());
    let (_, answer) = handle.next_request().await.unwrap();

    // Newer keys come and go around it, though it is the oldest.
    for host in ["a", "b", "c", "d", "e", "f"] {
        call(&mut service, &mut handle, host, Ok("fine"))
            .await
            .unwrap();
    }
    assert_eq!(breakers.evictions(), 4);
    let flaky = breakers.get("flaky").expect("a busy key is kept");
    assert_eq!(flaky.stats().consecutive_failures, 1);

    // Its second failure finds the first: the breaker opens.
    answer.send_error(UpstreamDown);
    hanging.await.unwrap_err();
    assert_eq!(flaky.state(), BreakerState::Open);
    assert_eq!(breakers.get("flaky").unwrap().state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn a_busy_key_evicted_last_finishes_on_its_own_breaker() {
    let keyed = layer(fragile("hosts"), 1);
    let breakers = keyed.handle();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| keyed.layer(mock));
    assert_ready_ok!(service.poll_ready());
    let mut hanging = task::spawn(service.call(("busy", 1)));
    assert_pending!(hanging.poll());
    let (_, answer) = handle.next_request().await.unwrap();
    let busy = breakers.get("busy").unwrap();

    // With only a busy key held, it makes room.
    call(&mut service, &mut handle, "other", Ok("fine"))
        .await
        .unwrap();
    assert!(breakers.get("busy").is_none());

    answer.send_response("late");
    assert_eq!(hanging.await.unwrap(), "late");
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(
        busy.stats().calls,
        1,
        "recorded on the breaker it started with"
    );
}

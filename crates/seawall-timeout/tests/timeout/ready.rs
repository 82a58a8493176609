//! The ready timeout: back pressure passed through, bounded in time.

use seawall_timeout::error::{Elapsed, Phase};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok};
use tower_test::{assert_request_eq, mock};

use crate::support::{ms, ready_layer, response_layer};

#[tokio::test(start_paused = true)]
async fn fires_when_the_inner_service_stays_pending() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(ready_layer(ms(50)));
    handle.allow(0);
    assert_pending!(service.poll_ready());

    advance(ms(49)).await;
    assert!(!service.is_woken());
    assert_pending!(service.poll_ready());

    advance(ms(1)).await;
    assert!(service.is_woken(), "the timer must wake the waiting task");
    let error = assert_ready_err!(service.poll_ready());
    let elapsed = error.downcast_ref::<Elapsed>().expect("an Elapsed");
    assert_eq!(elapsed.phase(), Phase::Ready);
    assert_eq!(elapsed.limit(), ms(50));
    assert!(!elapsed.is_deadline());
}

#[tokio::test(start_paused = true)]
async fn does_not_fire_when_the_inner_service_becomes_ready() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(ready_layer(ms(50)));
    handle.allow(0);
    assert_pending!(service.poll_ready());
    advance(ms(30)).await;

    handle.allow(1);
    assert!(service.is_woken(), "readiness must wake the waiting task");
    assert_ready_ok!(service.poll_ready());

    // Long after the limit, the service is still ready and callable.
    advance(ms(200)).await;
    assert_ready_ok!(service.poll_ready());
    let response = service.call("late but admitted");
    assert_request_eq!(handle, "late but admitted").send_response("ok");
    assert_eq!(response.await.unwrap(), "ok");
}

#[tokio::test(start_paused = true)]
async fn each_wait_starts_from_zero() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(ready_layer(ms(50)));
    handle.allow(0);
    assert_pending!(service.poll_ready());
    advance(ms(40)).await;
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let _response = service.call("one");
    let _request = assert_request_eq!(handle, "one");

    // A second wait, reusing the timer: a full 50 ms again.
    handle.allow(0);
    assert_pending!(service.poll_ready());
    advance(ms(49)).await;
    assert_pending!(service.poll_ready());
    advance(ms(1)).await;
    assert_ready_err!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn the_service_recovers_after_a_ready_timeout() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(ready_layer(ms(50)));
    handle.allow(0);
    assert_pending!(service.poll_ready());
    advance(ms(50)).await;
    assert_ready_err!(service.poll_ready());

    // The next poll starts a new wait rather than failing again.
    assert_pending!(service.poll_ready());
    advance(ms(20)).await;
    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn without_a_ready_timeout_the_wait_is_unbounded() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(50)));
    handle.allow(0);
    assert_pending!(service.poll_ready());

    advance(ms(3_600_000)).await;
    assert!(!service.is_woken());
    assert_pending!(service.poll_ready());

    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn ready_at_once_needs_no_timer() {
    let (mut service, _handle) = mock::spawn_layer::<&str, &str, _>(ready_layer(ms(50)));
    assert_ready_ok!(service.poll_ready());
    advance(ms(100)).await;
    assert!(!service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

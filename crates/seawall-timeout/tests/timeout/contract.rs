//! The tower Service contract: readiness before call, clones, drop, errors.

use std::convert::Infallible;
use std::future::pending;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use seawall_core::{rejection, BoxError};
use seawall_timeout::error::{Elapsed, Phase};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower::{service_fn, Layer, Service, ServiceExt};
use tower_test::{assert_request_eq, mock};

use crate::support::{ms, ready_layer, response_layer, InnerError};

#[test]
#[should_panic(expected = "Timeout::call was invoked without a successful poll_ready")]
fn call_before_poll_ready_panics() {
    let (mut service, _handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(100)));
    drop(service.call("too soon"));
}

#[test]
#[should_panic(expected = "Timeout::call was invoked without a successful poll_ready")]
fn a_second_call_needs_a_second_poll_ready() {
    let (mut service, _handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    drop(service.call("first"));
    drop(service.call("second"));
}

#[test]
#[should_panic(expected = "Timeout::call was invoked without a successful poll_ready")]
fn a_clone_starts_unreserved() {
    let (mut service, _handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let mut clone = service.get_ref().clone();
    drop(clone.call("from the clone"));
}

#[tokio::test(start_paused = true)]
async fn cloning_leaves_the_original_reserved() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let _clone = service.get_ref().clone();

    let response = service.call("from the original");
    assert_request_eq!(handle, "from the original").send_response("ok");
    assert_eq!(response.await.unwrap(), "ok");
}

#[tokio::test(start_paused = true)]
async fn a_clone_does_not_share_the_ready_wait() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(ready_layer(ms(50)));
    handle.allow(0);
    assert_pending!(service.poll_ready());
    tokio::time::advance(ms(30)).await;

    let mut clone = mock::Spawn::new(service.get_ref().clone());
    assert_pending!(clone.poll_ready());
    tokio::time::advance(ms(20)).await;

    // The original's wait is over; the clone's began 20 ms ago.
    assert_ready_err!(service.poll_ready());
    assert!(!clone.is_woken());
    assert_pending!(clone.poll_ready());
    tokio::time::advance(ms(30)).await;
    assert!(clone.is_woken());
    assert_ready_err!(clone.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn dropping_the_future_drops_the_inner_future() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&dropped);
    let inner = service_fn(move |_: ()| {
        let guard = DropFlag(Arc::clone(&flag));
        async move {
            let _guard = guard;
            pending::<Result<(), Infallible>>().await
        }
    });
    let mut service = response_layer(ms(100)).layer(inner);
    service.ready().await.unwrap();

    let mut response = task::spawn(service.call(()));
    assert_pending!(response.poll());
    assert!(!dropped.load(Ordering::SeqCst));

    drop(response);
    assert!(dropped.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn elapsed_downcasts_from_the_box_error() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("slow"));
    let _pending = assert_request_eq!(handle, "slow");
    tokio::time::advance(ms(100)).await;

    let error: BoxError = assert_ready_err!(response.poll());
    assert!(error.is::<Elapsed>());
    assert_eq!(error.to_string(), "request timed out after 100ms");
    let found = rejection::find(&*error).expect("a seawall rejection");
    assert_eq!(found.pattern(), rejection::Pattern::Timeout);
    assert_eq!(found.retry_after(), None);
}

#[tokio::test(start_paused = true)]
async fn inner_response_errors_pass_through_unchanged() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(response_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let response = service.call("fails");
    assert_request_eq!(handle, "fails").send_error(InnerError("boom"));

    let error = response.await.unwrap_err();
    assert!(!error.is::<Elapsed>());
    assert_eq!(
        error.downcast_ref::<InnerError>(),
        Some(&InnerError("boom"))
    );
    assert_eq!(error.to_string(), "inner failed: boom");
    assert!(rejection::find(&*error).is_none());
}

#[tokio::test(start_paused = true)]
async fn inner_readiness_errors_pass_through_unchanged() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(ready_layer(ms(50)));
    handle.send_error(InnerError("dead"));

    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(
        error.downcast_ref::<InnerError>(),
        Some(&InnerError("dead"))
    );
}

#[tokio::test(start_paused = true)]
async fn the_ready_error_is_elapsed_in_the_ready_phase() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(ready_layer(ms(50)));
    handle.allow(0);
    assert_pending!(service.poll_ready());
    tokio::time::advance(ms(50)).await;

    let error = assert_ready_err!(service.poll_ready());
    let elapsed = error.downcast_ref::<Elapsed>().expect("an Elapsed");
    assert_eq!(elapsed.phase(), Phase::Ready);
    assert_eq!(elapsed.limit(), ms(50));
    assert_eq!(
        error.to_string(),
        "waiting for readiness timed out after 50ms"
    );
}

#[test]
fn debug_does_not_need_a_debug_inner_service() {
    struct Opaque;
    let layer = response_layer(ms(100));
    let service = layer.layer(Opaque);
    let shown = format!("{service:?}");
    assert!(shown.starts_with("Timeout {"), "{shown}");
    assert!(shown.contains("timeout: 100ms"), "{shown}");
    assert!(format!("{layer:?}").contains("name: \"timeout\""));
}

#[test]
fn accessors_reach_the_inner_service() {
    let mut service = response_layer(ms(100)).layer(7_u32);
    assert_eq!(*service.get_ref(), 7);
    *service.get_mut() = 8;
    assert_eq!(service.into_inner(), 8);
}

struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

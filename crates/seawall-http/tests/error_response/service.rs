use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use seawall_core::rejection::{BulkheadFull, Elapsed, Phase};
use seawall_http::{ErrorResponse, ErrorResponseLayer};
use tokio_test::{assert_pending, assert_ready_ok};
use tower::Service;
use tower_test::mock;

use crate::{body_text, retry_after, Wrapped};

type Mock = mock::Mock<Request<()>, Response<Full<Bytes>>>;
type Handle = mock::Handle<Request<()>, Response<Full<Bytes>>>;

fn new_service() -> (mock::Spawn<ErrorResponse<Mock>>, Handle) {
    mock::spawn_layer(ErrorResponseLayer::new())
}

#[tokio::test]
async fn a_success_passes_through_untouched() {
    let (mut service, mut handle) = new_service();
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let future = service.call(Request::new(()));

    let (_, send) = handle.next_request().await.unwrap();
    let response = Response::builder()
        .status(StatusCode::CREATED)
        .header("x-upstream", "kept")
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from_static(b"made it")))
        .unwrap();
    send.send_response(response);

    let Ok(response) = future.await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers().len(), 2);
    assert_eq!(response.headers()["x-upstream"], "kept");
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert!(!response.body().is_fixed());
    assert_eq!(body_text(response).await, "made it");
}

#[tokio::test]
async fn a_rejection_from_the_inner_future_is_answered() {
    let (mut service, mut handle) = new_service();
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let future = service.call(Request::new(()));
    let (_, send) = handle.next_request().await.unwrap();
    send.send_error(BulkheadFull::new(3).with_retry_after(Duration::from_millis(1500)));

    let Ok(response) = future.await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after(&response), Some("2"));
    // Its trace event is checked in tests/tracing.rs.
}

#[tokio::test]
async fn any_other_error_is_a_500_that_does_not_leak() {
    let (mut service, mut handle) = new_service();
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let future = service.call(Request::new(()));
    let (_, send) = handle.next_request().await.unwrap();
    send.send_error(Wrapped("secret table users_v2 is locked".into()));

    let Ok(response) = future.await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(retry_after(&response), None);
    let text = body_text(response).await;
    assert!(text.contains(r#""status":500"#), "{text}");
    assert!(
        !text.contains("secret") && !text.contains("handler failed"),
        "{text}"
    );

    // The swallowed error is kept in the log instead, at warn; see
    // tests/tracing.rs.
}

#[tokio::test]
async fn readiness_is_the_inner_services() {
    let (mut service, mut handle) = new_service();
    handle.allow(0);
    assert_pending!(service.poll_ready());

    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());

    let future = service.call(Request::new(()));
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response(Response::new(Full::default()));
    let Ok(response) = future.await;
    assert_eq!(response.status(), StatusCode::OK);

    // The mock allowed one call only, so the next is held back again.
    assert_pending!(service.poll_ready());
}

#[tokio::test]
async fn a_poll_ready_error_answers_the_next_call() {
    let (mut service, mut handle) = new_service();
    handle.send_error(Elapsed::new(Duration::from_millis(50), Phase::Ready));

    // The failure is kept for the call, which never reaches the inner
    // service.
    assert_ready_ok!(service.poll_ready());
    assert_ready_ok!(service.poll_ready());
    let Ok(response) = service.call(Request::new(())).await;
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(handle.poll_request().is_pending());

    // The inner service is asked again, not given up on.
    handle.send_error("pool closed");
    assert_ready_ok!(service.poll_ready());
    let Ok(response) = service.call(Request::new(())).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let future = service.call(Request::new(()));
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response(Response::new(Full::default()));
    let Ok(response) = future.await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
#[should_panic(expected = "call without a successful poll_ready")]
async fn call_without_poll_ready_panics() {
    let (mut service, _handle) = new_service();
    let _never_polled = service.call(Request::new(()));
}

#[tokio::test]
#[should_panic(expected = "call without a successful poll_ready")]
async fn a_clone_does_not_inherit_readiness() {
    let (mut service, mut handle) = new_service();
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut clone = service.get_ref().clone();
    let _never_polled = clone.call(Request::new(()));
}

#[tokio::test]
async fn a_clone_does_not_inherit_a_pending_failure() {
    let (mut service, mut handle) = new_service();
    handle.send_error(BulkheadFull::new(1));
    assert_ready_ok!(service.poll_ready());

    let mut clone = service.get_ref().clone();
    handle.allow(1);
    assert_ready_ok!(Service::poll_ready(&mut clone, &mut noop_context()));
    let future = clone.call(Request::new(()));
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response(Response::new(Full::default()));
    let Ok(response) = future.await;
    assert_eq!(response.status(), StatusCode::OK);

    // The original still answers its own failure.
    let Ok(response) = service.call(Request::new(())).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[test]
fn the_service_and_its_future_are_send_when_the_inner_is() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<ErrorResponse<Mock>>();
    send_sync::<ErrorResponseLayer>();
    send::<<ErrorResponse<Mock> as Service<Request<()>>>::Future>();
}

#[test]
fn debug_does_not_need_the_inner_to_be_debug() {
    struct Opaque;
    let service = ErrorResponse::new(Opaque);
    let shown = format!("{service:?}");
    assert!(
        shown.contains("ErrorResponse") && shown.contains("idle"),
        "{shown}"
    );
    assert!(matches!(service.into_inner(), Opaque));
}

fn noop_context() -> std::task::Context<'static> {
    std::task::Context::from_waker(std::task::Waker::noop())
}

//! The readiness gate's service contract and its refusal.

use std::time::Duration;

use http::{Request, Response, StatusCode};
use seawall_core::rejection::{self, Pattern};
use seawall_handshake::{Drain, NotReady, ReadinessGateLayer};
use seawall_http::ErrorResponseLayer;
use tokio_test::{assert_pending, assert_ready, assert_ready_ok};
use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
use tower_layer::Layer;
use tower_test::mock;

type Mock = mock::Mock<&'static str, &'static str>;

fn gate(
    drain: &Drain,
) -> (
    mock::Spawn<seawall_handshake::ReadinessGate<Mock>>,
    mock::Handle<&'static str, &'static str>,
) {
    mock::spawn_layer(ReadinessGateLayer::new(drain))
}

#[tokio::test(start_paused = true)]
async fn passes_requests_and_counts_them_while_ready() {
    let drain = Drain::new();
    let (mut service, mut handle) = gate(&drain);

    assert_ready_ok!(service.poll_ready());
    assert_eq!(drain.in_flight(), 1);
    let mut response = tokio_test::task::spawn(service.call("hello"));
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(request, "hello");
    assert_pending!(response.poll());

    send.send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
    // Counted until the future completes, not until it is dropped.
    assert_eq!(drain.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn refuses_with_not_ready_while_draining_without_touching_the_inner_service() {
    let drain = Drain::new();
    let layer = ReadinessGateLayer::builder(&drain)
        .retry_after(Duration::from_secs(7))
        .build()
        .unwrap();
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(layer);
    // The inner service is not ready: only a refusal can be ready now.
    handle.allow(0);

    let _waiting = drain.drain();
    // The gate closes when the notice delay (5 s by default) is over.
    tokio::time::advance(Duration::from_secs(5)).await;
    assert!(drain.is_closed());
    assert_ready_ok!(service.poll_ready());
    let error = service.call("hello").await.unwrap_err();

    let not_ready = error.downcast_ref::<NotReady>().expect("a NotReady");
    assert!(not_ready.is_draining());
    let found = rejection::find(&*error).expect("a seawall rejection");
    assert_eq!(found.pattern(), Pattern::Handshake);
    assert_eq!(found.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(drain.in_flight(), 0);
    assert_pending!(handle.poll_request());
}

#[tokio::test(start_paused = true)]
async fn error_response_layer_answers_503_with_retry_after() {
    let drain = Drain::new();
    let service = ServiceBuilder::new()
        .layer(ErrorResponseLayer::new())
        .layer(ReadinessGateLayer::new(&drain))
        .service(service_fn(|_: Request<()>| async {
            Ok::<_, std::io::Error>(Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
        }));

    let Ok(response) = service.clone().oneshot(Request::new(())).await;
    assert_eq!(response.status(), StatusCode::OK);

    let _waiting = drain.drain();
    tokio::time::advance(Duration::from_secs(5)).await;
    let Ok(response) = service.clone().oneshot(Request::new(())).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "5");

    drain.undrain();
    let Ok(response) = service.oneshot(Request::new(())).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn inner_errors_pass_through_unchanged() {
    let drain = Drain::new();
    let (mut service, mut handle) = gate(&drain);

    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    let (_, send) = handle.next_request().await.unwrap();
    send.send_error(std::io::Error::other("reset"));

    let error = response.await.unwrap_err();
    assert!(rejection::find(&*error).is_none());
    assert_eq!(error.to_string(), "reset");
    assert_eq!(drain.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "without poll_ready")]
async fn call_before_poll_ready_panics() {
    let drain = Drain::new();
    let (mut service, _handle) = gate(&drain);
    drop(service.call("hello"));
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "without poll_ready")]
async fn clones_start_unreserved() {
    let drain = Drain::new();
    let (mut service, _handle) = gate(&drain);
    assert_ready_ok!(service.poll_ready());

    let mut clone = service.get_mut().clone();
    assert_eq!(drain.in_flight(), 1, "cloning does not reserve");
    drop(clone.call("hello"));
}

#[tokio::test(start_paused = true)]
async fn dropping_the_service_or_the_future_gives_the_count_back() {
    let drain = Drain::new();
    let (mut service, mut handle) = gate(&drain);

    assert_ready_ok!(service.poll_ready());
    let response = service.call("a");
    assert_eq!(drain.in_flight(), 1);
    drop(response);
    assert_eq!(drain.in_flight(), 0);
    let _ = handle.next_request().await;

    assert_ready_ok!(service.poll_ready());
    assert_eq!(drain.in_flight(), 1);
    drop(service);
    assert_eq!(drain.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn services_of_one_layer_share_one_count() {
    let drain = Drain::new();
    let layer = ReadinessGateLayer::new(&drain);
    let (inner, _handle) = mock::pair::<&str, &str>();
    let mut a = tokio_test::task::spawn(layer.layer(inner.clone()));
    let mut b = tokio_test::task::spawn(layer.layer(inner));

    assert_ready!(a.enter(|cx, mut s| Service::<&str>::poll_ready(&mut *s, cx))).unwrap();
    assert_ready!(b.enter(|cx, mut s| Service::<&str>::poll_ready(&mut *s, cx))).unwrap();
    assert_eq!(drain.in_flight(), 2);
}

#[test]
fn retry_after_is_validated() {
    let drain = Drain::new();
    for bad in [
        Duration::ZERO,
        Duration::from_millis(999),
        Duration::from_secs(3601),
    ] {
        let error = ReadinessGateLayer::builder(&drain)
            .retry_after(bad)
            .build()
            .unwrap_err();
        assert_eq!(error.field(), "retry_after");
        assert!(error
            .to_string()
            .starts_with("retry_after must be at least 1s"));
    }
}

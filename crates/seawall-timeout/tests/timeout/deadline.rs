//! The request's overall deadline.

use std::time::Duration;

use seawall_core::Deadline;
use seawall_timeout::error::Elapsed;
use seawall_timeout::TimeoutLayer;
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower_test::{assert_request_eq, mock};

use crate::support::{ms, response_layer};

/// The tests' request: nothing but the deadline it may carry.
type Request = Option<Deadline>;

/// A function pointer keeps the layer's type nameable.
type Carried = fn(&Request) -> Option<Deadline>;

fn deadline_layer(timeout: Duration) -> TimeoutLayer<Carried> {
    TimeoutLayer::builder()
        .timeout(timeout)
        .deadline_from((|request: &Request| *request) as Carried)
        .build()
        .expect("a valid configuration")
}

#[tokio::test(start_paused = true)]
async fn a_deadline_nearer_than_the_limit_wins() {
    let (mut service, mut handle) = mock::spawn_layer::<Request, (), _>(deadline_layer(ms(100)));
    let deadline = Some(Deadline::after(ms(30)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(deadline));
    let _unanswered = assert_request_eq!(handle, deadline);
    assert_pending!(response.poll());

    advance(ms(29)).await;
    assert_pending!(response.poll());
    advance(ms(1)).await;
    let error = assert_ready_err!(response.poll());
    let elapsed = error.downcast_ref::<Elapsed>().expect("an Elapsed");
    assert_eq!(elapsed.limit(), ms(30));
    assert!(elapsed.is_deadline());
    assert_eq!(error.to_string(), "request timed out after 30ms (deadline)");
}

#[tokio::test(start_paused = true)]
async fn the_deadline_is_measured_at_the_call() {
    let (mut service, mut handle) = mock::spawn_layer::<Request, (), _>(deadline_layer(ms(100)));
    let deadline = Some(Deadline::after(ms(80)));
    advance(ms(50)).await;

    // 30 ms of the deadline are left when the request is called.
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(deadline));
    let _unanswered = assert_request_eq!(handle, deadline);
    assert_pending!(response.poll());
    advance(ms(30)).await;
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Elapsed>().unwrap().limit(), ms(30));
}

#[tokio::test(start_paused = true)]
async fn a_deadline_further_than_the_limit_does_not_matter() {
    let (mut service, mut handle) = mock::spawn_layer::<Request, (), _>(deadline_layer(ms(100)));
    let deadline = Some(Deadline::after(ms(500)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(deadline));
    let _unanswered = assert_request_eq!(handle, deadline);
    assert_pending!(response.poll());

    advance(ms(99)).await;
    assert_pending!(response.poll());
    advance(ms(1)).await;
    let error = assert_ready_err!(response.poll());
    let elapsed = error.downcast_ref::<Elapsed>().expect("an Elapsed");
    assert_eq!(elapsed.limit(), ms(100));
    assert!(!elapsed.is_deadline());
}

#[tokio::test(start_paused = true)]
async fn a_passed_deadline_fails_without_calling_the_inner_service() {
    let (mut service, mut handle) = mock::spawn_layer::<Request, (), _>(deadline_layer(ms(100)));
    handle.allow(1);
    let passed = Some(Deadline::after(ms(10)));
    advance(ms(20)).await;

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(passed));
    let error = assert_ready_err!(response.poll());
    let elapsed = error.downcast_ref::<Elapsed>().expect("an Elapsed");
    assert_eq!(elapsed.limit(), Duration::ZERO);
    assert!(elapsed.is_deadline());
    assert_pending!(handle.poll_request(), "the inner service was called");

    // The inner service's reservation was not used up: the one request
    // allowed still goes through.
    assert_ready_ok!(service.poll_ready());
    let fresh = Some(Deadline::after(ms(50)));
    let response = service.call(fresh);
    assert_request_eq!(handle, fresh).send_response(());
    response.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_deadline_due_now_counts_as_passed() {
    let (mut service, mut handle) = mock::spawn_layer::<Request, (), _>(deadline_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(Some(Deadline::after(Duration::ZERO))));
    assert_ready_err!(response.poll());
    assert_pending!(handle.poll_request());
}

#[tokio::test(start_paused = true)]
async fn no_deadline_means_the_own_limit() {
    let (mut service, mut handle) = mock::spawn_layer::<Request, (), _>(deadline_layer(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(None));
    let _unanswered = assert_request_eq!(handle, None);
    assert_pending!(response.poll());
    advance(ms(100)).await;
    let error = assert_ready_err!(response.poll());
    assert!(!error.downcast_ref::<Elapsed>().unwrap().is_deadline());
}

#[tokio::test(start_paused = true)]
async fn the_default_source_ignores_deadlines() {
    let (mut service, mut handle) = mock::spawn_layer::<Request, (), _>(response_layer(ms(100)));
    let near = Some(Deadline::after(ms(10)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(near));
    let _unanswered = assert_request_eq!(handle, near);
    assert_pending!(response.poll());

    advance(ms(99)).await;
    assert_pending!(response.poll());
    advance(ms(1)).await;
    assert_ready_err!(response.poll());
}

#[cfg(feature = "http")]
mod http_requests {
    use seawall_core::Deadline;
    use seawall_timeout::deadline::HttpExtensions;
    use seawall_timeout::error::Elapsed;
    use seawall_timeout::TimeoutLayer;
    use tokio::time::advance;
    use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
    use tower_test::mock;

    use crate::support::ms;

    fn http_layer() -> TimeoutLayer<HttpExtensions> {
        TimeoutLayer::builder()
            .timeout(ms(100))
            .deadline_from(HttpExtensions)
            .build()
            .expect("a valid configuration")
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_is_read_from_the_extensions() {
        let (mut service, mut handle) = mock::spawn_layer::<http::Request<()>, (), _>(http_layer());
        let mut request = http::Request::new(());
        request.extensions_mut().insert(Deadline::after(ms(40)));

        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call(request));
        let _unanswered = handle.next_request().await.expect("the request");
        assert_pending!(response.poll());
        advance(ms(40)).await;
        let error = assert_ready_err!(response.poll());
        let elapsed = error.downcast_ref::<Elapsed>().expect("an Elapsed");
        assert_eq!(elapsed.limit(), ms(40));
        assert!(elapsed.is_deadline());
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_without_one_gets_the_own_limit() {
        let (mut service, mut handle) = mock::spawn_layer::<http::Request<()>, (), _>(http_layer());
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call(http::Request::new(())));
        let _unanswered = handle.next_request().await.expect("the request");
        assert_pending!(response.poll());
        advance(ms(99)).await;
        assert_pending!(response.poll());
        advance(ms(1)).await;
        let error = assert_ready_err!(response.poll());
        assert!(!error.downcast_ref::<Elapsed>().unwrap().is_deadline());
    }

    #[tokio::test(start_paused = true)]
    async fn a_passed_deadline_in_the_extensions_is_not_called() {
        let (mut service, mut handle) = mock::spawn_layer::<http::Request<()>, (), _>(http_layer());
        let mut request = http::Request::new(());
        request.extensions_mut().insert(Deadline::after(ms(5)));
        advance(ms(5)).await;

        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call(request));
        assert_ready_err!(response.poll());
        assert_pending!(handle.poll_request());
    }
}

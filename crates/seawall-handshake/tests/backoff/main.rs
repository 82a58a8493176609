//! The client-side back-off: an upstream's `503` or `429` with
//! `Retry-After` makes later calls to it fail fast, without reaching the
//! inner service, until that time has passed; other upstreams go on.
//!
//! `tcp` does it over real TCP against an axum upstream; `model` checks
//! random sequences against a model.

mod model;
mod tcp;

use std::time::Duration;

use http::{Request, Response, StatusCode};
use seawall_core::BoxError;
use seawall_handshake::backoff::{Backoff, BackoffLayer, UpstreamBackoff};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok};
use tower::{Layer, Service};
use tower_test::mock::{self, Handle, Mock, Spawn};
type Upstream = Mock<Request<()>, Response<()>>;
type Client = Spawn<Backoff<Upstream>>;
type Upstreams = Handle<Request<()>, Response<()>>;

fn client(layer: &BackoffLayer) -> (Client, Upstreams) {
    mock::spawn_layer(layer.clone())
}

fn request(uri: &str) -> Request<()> {
    Request::get(uri).body(()).expect("a valid request")
}

fn answer(status: StatusCode, retry_after: Option<&str>) -> Response<()> {
    let mut response = Response::builder().status(status);
    if let Some(value) = retry_after {
        response = response.header("retry-after", value);
    }
    response.body(()).expect("a valid response")
}

/// Sends `request` and asserts that it reaches the upstream, which answers
/// `status` with `retry_after`.
async fn exchange(
    client: &mut Client,
    upstreams: &mut Upstreams,
    request: Request<()>,
    status: StatusCode,
    retry_after: Option<&str>,
) {
    assert_ready_ok!(client.poll_ready());
    let future = client.call(request);
    let (_, reply) = upstreams
        .next_request()
        .await
        .expect("the call reached the upstream");
    reply.send_response(answer(status, retry_after));
    let response = future.await.expect("the upstream's answer");
    assert_eq!(response.status(), status);
}

/// Sends `request` and asserts that it fails at once with
/// [`UpstreamBackoff`] and never reaches the upstream.
fn refused(
    client: &mut Client,
    upstreams: &mut Upstreams,
    request: Request<()>,
) -> UpstreamBackoff {
    assert_ready_ok!(client.poll_ready());
    let mut future = tokio_test::task::spawn(client.call(request));
    let error = assert_ready_err!(future.poll());
    assert_pending!(upstreams.poll_request());
    *error
        .downcast::<UpstreamBackoff>()
        .expect("the error is an UpstreamBackoff")
}

#[tokio::test(start_paused = true)]
async fn a_503_with_retry_after_fails_calls_fast_until_it_has_passed() {
    let layer = BackoffLayer::new();
    let (mut client, mut upstreams) = client(&layer);
    let busy = StatusCode::SERVICE_UNAVAILABLE;
    exchange(
        &mut client,
        &mut upstreams,
        request("http://a.example/x"),
        busy,
        Some("2"),
    )
    .await;

    let refusal = refused(&mut client, &mut upstreams, request("http://a.example/y"));
    assert_eq!(refusal.retry_after(), Duration::from_secs(2));
    assert_eq!(refusal.authority(), "a.example");
    assert_eq!(
        refusal.to_string(),
        "upstream asked to back off, retry after 2s"
    );

    advance(Duration::from_millis(1999)).await;
    let refusal = refused(&mut client, &mut upstreams, request("http://a.example/y"));
    assert_eq!(refusal.retry_after(), Duration::from_millis(1));
    assert_eq!(
        refusal.to_string(),
        "upstream asked to back off, retry after 1s"
    );

    advance(Duration::from_millis(1)).await;
    let ok = StatusCode::OK;
    exchange(
        &mut client,
        &mut upstreams,
        request("http://a.example/y"),
        ok,
        None,
    )
    .await;
    exchange(
        &mut client,
        &mut upstreams,
        request("http://a.example/z"),
        ok,
        None,
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn other_upstreams_are_not_affected() {
    let layer = BackoffLayer::new();
    let (mut client, mut upstreams) = client(&layer);
    let ok = StatusCode::OK;
    let busy = StatusCode::SERVICE_UNAVAILABLE;
    exchange(
        &mut client,
        &mut upstreams,
        request("http://a.example/"),
        busy,
        Some("5"),
    )
    .await;

    // Another host, another port of the same host, and a Host header.
    exchange(
        &mut client,
        &mut upstreams,
        request("http://b.example/"),
        ok,
        None,
    )
    .await;
    exchange(
        &mut client,
        &mut upstreams,
        request("http://a.example:8080/"),
        ok,
        None,
    )
    .await;
    let by_host = Request::get("/")
        .header("host", "c.example")
        .body(())
        .expect("a valid request");
    exchange(&mut client, &mut upstreams, by_host, ok, None).await;

    // The same upstream, however it is spelled, is backing off.
    refused(
        &mut client,
        &mut upstreams,
        request("http://A.Example/other"),
    );
    refused(
        &mut client,
        &mut upstreams,
        request("https://user@a.example/"),
    );
    let by_host = Request::get("/")
        .header("host", "a.example")
        .body(())
        .expect("a valid request");
    let refusal = refused(&mut client, &mut upstreams, by_host);
    assert_eq!(refusal.authority(), "a.example");
}

#[tokio::test(start_paused = true)]
async fn a_host_header_upstream_backs_off_too() {
    let layer = BackoffLayer::new();
    let (mut client, mut upstreams) = client(&layer);
    let by_host = || {
        Request::get("/")
            .header("host", "127.0.0.1:9")
            .body(())
            .expect("a valid request")
    };
    let busy = StatusCode::SERVICE_UNAVAILABLE;
    exchange(&mut client, &mut upstreams, by_host(), busy, Some("3")).await;
    let refusal = refused(&mut client, &mut upstreams, by_host());
    assert_eq!(refusal.authority(), "127.0.0.1:9");
    assert_eq!(refusal.retry_after(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_after_backs_off_too() {
    let layer = BackoffLayer::new();
    let (mut client, mut upstreams) = client(&layer);
    let limited = StatusCode::TOO_MANY_REQUESTS;
    exchange(
        &mut client,
        &mut upstreams,
        request("http://a.example/"),
        limited,
        Some("7"),
    )
    .await;
    let refusal = refused(&mut client, &mut upstreams, request("http://a.example/"));
    assert_eq!(refusal.retry_after(), Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn malformed_missing_or_irrelevant_retry_after_is_ignored() {
    let layer = BackoffLayer::new();
    let (mut client, mut upstreams) = client(&layer);
    let busy = StatusCode::SERVICE_UNAVAILABLE;
    let cases: &[(StatusCode, Option<&str>)] = &[
        (busy, Some("soon")),
        (busy, Some("-1")),
        (busy, Some("1.5")),
        (busy, Some("0")),
        (busy, Some("Sun, 06 Nov 1994 08:49:37 GMT")),
        (busy, None),
        (StatusCode::TOO_MANY_REQUESTS, None),
        (StatusCode::OK, Some("60")),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("60")),
        (StatusCode::BAD_GATEWAY, Some("60")),
    ];
    for &(status, retry_after) in cases {
        let uri = "http://a.example/";
        exchange(
            &mut client,
            &mut upstreams,
            request(uri),
            status,
            retry_after,
        )
        .await;
    }
    // Every call above reached the upstream, and nothing is remembered.
    assert_eq!(layer.remembered(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_huge_retry_after_is_capped_at_five_minutes() {
    let layer = BackoffLayer::new();
    let (mut client, mut upstreams) = client(&layer);
    let busy = StatusCode::SERVICE_UNAVAILABLE;
    let huge = Some("99999999999999999999999");
    exchange(
        &mut client,
        &mut upstreams,
        request("http://a.example/"),
        busy,
        huge,
    )
    .await;
    let refusal = refused(&mut client, &mut upstreams, request("http://a.example/"));
    assert_eq!(refusal.retry_after(), Duration::from_secs(300));

    advance(Duration::from_secs(300)).await;
    let ok = StatusCode::OK;
    exchange(
        &mut client,
        &mut upstreams,
        request("http://a.example/"),
        ok,
        None,
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_later_retry_after_extends_and_an_earlier_one_never_shortens() {
    let layer = BackoffLayer::new();
    let (mut client, mut upstreams) = client(&layer);
    let busy = StatusCode::SERVICE_UNAVAILABLE;

    // Two calls in flight at once; the answers come back out of order.
    assert_ready_ok!(client.poll_ready());
    let long = client.call(request("http://a.example/1"));
    assert_ready_ok!(client.poll_ready());
    let short = client.call(request("http://a.example/2"));
    let (_, long_reply) = upstreams.next_request().await.expect("the first call");
    let (_, short_reply) = upstreams.next_request().await.expect("the second call");
    // A success in between does not clear anything either.
    assert_ready_ok!(client.poll_ready());
    let fine = client.call(request("http://a.example/3"));
    let (_, fine_reply) = upstreams.next_request().await.expect("the third call");

    long_reply.send_response(answer(busy, Some("10")));
    long.await.expect("an answer");
    short_reply.send_response(answer(busy, Some("3")));
    short.await.expect("an answer");
    fine_reply.send_response(answer(StatusCode::OK, None));
    fine.await.expect("an answer");

    let refusal = refused(&mut client, &mut upstreams, request("http://a.example/"));
    assert_eq!(refusal.retry_after(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn memory_is_bounded_dropping_expired_then_soonest_entries() {
    let layer = BackoffLayer::builder()
        .capacity(2)
        .build()
        .expect("a valid back-off");
    assert_eq!(layer.capacity(), 2);
    let (mut client, mut upstreams) = client(&layer);
    let busy = StatusCode::SERVICE_UNAVAILABLE;
    let ok = StatusCode::OK;

    exchange(
        &mut client,
        &mut upstreams,
        request("http://a.example/"),
        busy,
        Some("10"),
    )
    .await;
    exchange(
        &mut client,
        &mut upstreams,
        request("http://b.example/"),
        busy,
        Some("5"),
    )
    .await;
    exchange(
        &mut client,
        &mut upstreams,
        request("http://c.example/"),
        busy,
        Some("20"),
    )
    .await;

    // Full and nothing expired: b, which would end soonest, was dropped.
    assert_eq!(layer.remembered(), 2);
    exchange(
        &mut client,
        &mut upstreams,
        request("http://b.example/"),
        ok,
        None,
    )
    .await;
    refused(&mut client, &mut upstreams, request("http://a.example/"));
    refused(&mut client, &mut upstreams, request("http://c.example/"));

    // Once a's time has passed, it goes before c, even though d ends later.
    advance(Duration::from_secs(11)).await;
    exchange(
        &mut client,
        &mut upstreams,
        request("http://d.example/"),
        busy,
        Some("30"),
    )
    .await;
    assert_eq!(layer.remembered(), 2);
    refused(&mut client, &mut upstreams, request("http://c.example/"));
    refused(&mut client, &mut upstreams, request("http://d.example/"));
    exchange(
        &mut client,
        &mut upstreams,
        request("http://a.example/"),
        ok,
        None,
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn services_from_one_layer_and_their_clones_share_the_memory() {
    let layer = BackoffLayer::new();
    let (upstream, mut upstreams) = mock::pair::<Request<()>, Response<()>>();
    let first = layer.layer(upstream.clone());
    let second = layer.layer(upstream);
    let mut first = Spawn::new(first);
    let busy = StatusCode::SERVICE_UNAVAILABLE;
    exchange(
        &mut first,
        &mut upstreams,
        request("http://a.example/"),
        busy,
        Some("4"),
    )
    .await;

    let mut second = Spawn::new(second);
    refused(&mut second, &mut upstreams, request("http://a.example/"));
    let mut clone = Spawn::new(first.get_ref().clone());
    refused(&mut clone, &mut upstreams, request("http://a.example/"));
}

#[tokio::test(start_paused = true)]
async fn requests_naming_no_upstream_pass_through() {
    let layer = BackoffLayer::new();
    let (mut client, mut upstreams) = client(&layer);
    let busy = StatusCode::SERVICE_UNAVAILABLE;
    exchange(&mut client, &mut upstreams, request("/"), busy, Some("9")).await;
    exchange(&mut client, &mut upstreams, request("/"), busy, Some("9")).await;
    assert_eq!(layer.remembered(), 0);
}

#[tokio::test(start_paused = true)]
async fn inner_errors_and_readiness_pass_through_unchanged() {
    let layer = BackoffLayer::new();
    let (mut client, mut upstreams) = client(&layer);

    upstreams.allow(0);
    assert_pending!(client.poll_ready());
    upstreams.allow(1);
    assert!(client.is_woken());
    assert_ready_ok!(client.poll_ready());

    let future = client.call(request("http://a.example/"));
    let (_, reply) = upstreams.next_request().await.expect("the call");
    reply.send_error(std::io::Error::other("connection reset"));
    let error: BoxError = future.await.expect_err("the inner error");
    let io = error
        .downcast_ref::<std::io::Error>()
        .expect("the inner error, not re-wrapped");
    assert_eq!(io.to_string(), "connection reset");
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "Backoff::call without poll_ready")]
async fn call_without_poll_ready_panics() {
    let layer = BackoffLayer::new();
    let (mut client, _upstreams) = client(&layer);
    drop(client.call(request("http://a.example/")));
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "Backoff::call without poll_ready")]
async fn a_clone_starts_unready() {
    let layer = BackoffLayer::new();
    let (mut client, _upstreams) = client(&layer);
    assert_ready!(client.poll_ready()).expect("ready");
    let mut clone = client.get_ref().clone();
    drop(clone.call(request("http://a.example/")));
}

#[test]
fn capacity_is_validated() {
    for capacity in [0, 1_000_001] {
        let error = BackoffLayer::builder()
            .capacity(capacity)
            .build()
            .expect_err("out of range");
        assert_eq!(error.field(), "capacity");
        assert_eq!(
            error.to_string(),
            format!("capacity must be at least 1 and at most 1000000, got {capacity}")
        );
    }
    assert_eq!(BackoffLayer::new().capacity(), 1024);
    let debug = format!("{:?}", BackoffLayer::new());
    assert!(debug.contains("capacity: 1024"), "{debug}");
}

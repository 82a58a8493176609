//! The HTTP bulkhead holds its permit until the response body is done.
#![cfg(feature = "http")]

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use seawall_bulkhead::body::PermitBody;
use seawall_bulkhead::{BulkheadFull, BulkheadHandle, BulkheadLayer, HttpBulkhead};
use tokio_test::assert_ready_ok;
use tower_test::mock::{self, Spawn};

type Mock = mock::Mock<Request<()>, Response<Script>>;
type Mocks = mock::Handle<Request<()>, Response<Script>>;

fn bulkhead(max_in_flight: usize) -> (Spawn<HttpBulkhead<Mock>>, Mocks, BulkheadHandle) {
    let layer = BulkheadLayer::new(max_in_flight).into_http();
    let handle = layer.handle();
    let (service, mocks) = mock::spawn_layer(layer);
    (service, mocks, handle)
}

/// Calls the service and answers with `body`.
async fn respond(
    service: &mut Spawn<HttpBulkhead<Mock>>,
    mocks: &mut Mocks,
    body: Script,
) -> Response<PermitBody<Script>> {
    assert_ready_ok!(service.poll_ready());
    let response = service.call(Request::new(()));
    let (_, send) = mocks.next_request().await.expect("the inner was called");
    send.send_response(Response::new(body));
    response.await.expect("admitted")
}

#[tokio::test(start_paused = true)]
async fn the_permit_lasts_until_the_last_frame() {
    let (mut service, mut mocks, bulkhead) = bulkhead(1);
    let response = respond(&mut service, &mut mocks, Script::frames(2, true)).await;
    assert_eq!(
        bulkhead.in_flight(),
        1,
        "the headers are out, the body is not"
    );

    let mut body = response.into_body();
    assert!(body.holds_permit());
    body.frame().await.unwrap().unwrap();
    assert_eq!(bulkhead.in_flight(), 1);
    body.frame().await.unwrap().unwrap();
    assert_eq!(bulkhead.in_flight(), 0, "released with the last frame");
    assert!(!body.holds_permit());
    assert!(body.is_end_stream());
}

#[tokio::test(start_paused = true)]
async fn the_permit_goes_back_at_the_end_of_the_stream() {
    let (mut service, mut mocks, bulkhead) = bulkhead(1);
    // This body only says it is done by yielding `None`.
    let response = respond(&mut service, &mut mocks, Script::frames(1, false)).await;
    let mut body = response.into_body();
    body.frame().await.unwrap().unwrap();
    assert_eq!(bulkhead.in_flight(), 1);
    assert!(body.frame().await.is_none());
    assert_eq!(bulkhead.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_body_midway_releases_the_permit() {
    let (mut service, mut mocks, bulkhead) = bulkhead(1);
    let response = respond(&mut service, &mut mocks, Script::frames(3, true)).await;
    let mut body = response.into_body();
    body.frame().await.unwrap().unwrap();
    assert_eq!(bulkhead.in_flight(), 1);
    drop(body);
    assert_eq!(bulkhead.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_body_error_releases_the_permit() {
    let (mut service, mut mocks, bulkhead) = bulkhead(1);
    let mut script = Script::frames(1, false);
    script.frames.push_front(Err(io::Error::other("reset")));
    let response = respond(&mut service, &mut mocks, script).await;
    let mut body = response.into_body();
    assert!(body.frame().await.unwrap().is_err());
    assert_eq!(bulkhead.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_streaming_body_keeps_others_out() {
    let (mut service, mut mocks, bulkhead) = bulkhead(1);
    let response = respond(&mut service, &mut mocks, Script::frames(2, true)).await;

    assert_ready_ok!(service.poll_ready());
    let error = service.call(Request::new(())).await.unwrap_err();
    assert!(error.is::<BulkheadFull>());

    drop(response);
    assert_eq!(bulkhead.in_flight(), 0);
    assert_ready_ok!(service.poll_ready());
    assert_eq!(bulkhead.in_flight(), 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_response_future_releases_the_permit() {
    let (mut service, _mocks, bulkhead) = bulkhead(1);
    assert_ready_ok!(service.poll_ready());
    let response = service.call(Request::new(()));
    drop(response);
    assert_eq!(bulkhead.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_http_layer_shares_the_permits_of_its_origin() {
    let plain = BulkheadLayer::new(1);
    let http = plain.clone().into_http();
    let (mut a, _mocks_a) = mock::spawn_layer::<Request<()>, Response<Script>, _>(http);
    let (mut b, _mocks_b) = mock::spawn_layer::<Request<()>, Response<Script>, _>(plain);
    assert_ready_ok!(a.poll_ready());
    assert_ready_ok!(b.poll_ready());
    assert!(b.call(Request::new(())).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn futures_and_bodies_are_send_and_static() {
    fn send_static<T: Send + 'static>(_: &T) {}
    let (mut service, mut mocks, _bulkhead) = bulkhead(2);
    let response = respond(&mut service, &mut mocks, Script::frames(1, true)).await;
    send_static(&response);
    assert_ready_ok!(service.poll_ready());
    let future = service.call(Request::new(()));
    send_static(&future);
    send_static(service.get_ref());
}

/// A body that yields scripted frames.
struct Script {
    frames: VecDeque<Result<Frame<Bytes>, io::Error>>,
    /// Whether `is_end_stream` turns true once the frames are out, as for a
    /// body of known length.
    says_end: bool,
}

impl Script {
    fn frames(n: usize, says_end: bool) -> Self {
        let frames = (0..n)
            .map(|i| Ok(Frame::data(Bytes::from(format!("chunk {i}")))))
            .collect();
        Script { frames, says_end }
    }
}

impl Body for Script {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Poll::Ready(self.frames.pop_front())
    }

    fn is_end_stream(&self) -> bool {
        self.says_end && self.frames.is_empty()
    }
}

#[test]
fn http_services_are_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<seawall_bulkhead::HttpBulkheadLayer>();
    send_sync::<HttpBulkhead<Mock>>();
    send_sync::<PermitBody<Script>>();
}

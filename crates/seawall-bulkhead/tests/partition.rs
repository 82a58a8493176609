//! Partitions: guaranteed shares that borrow idle capacity.

use seawall_bulkhead::{Bulkhead, BulkheadFull, BulkheadHandle, BulkheadLayer};
use seawall_core::BoxError;
use tokio_test::assert_ready_ok;
use tower_test::mock::{self, Spawn};

/// A request is the name of its tenant.
type Request = &'static str;
type Key = fn(&Request) -> Option<&str>;
type Service = Spawn<Bulkhead<mock::Mock<Request, ()>, Key>>;
type Mocks = mock::Handle<Request, ()>;
type Response = seawall_bulkhead::future::ResponseFuture<mock::future::ResponseFuture<()>>;

fn tenant(request: &Request) -> Option<&str> {
    Some(request)
}

/// Capacity 6: `gold` keeps 3, `silver` keeps 1 and may hold at most 2,
/// and 2 permits form the pool.
fn bulkhead() -> (Service, BulkheadHandle, Mocks) {
    let layer = BulkheadLayer::builder()
        .name("tenants")
        .max_in_flight(6)
        .partition("gold", 3)
        .partition_with_max("silver", 1, 2)
        .partition_key(tenant as Key)
        .build()
        .unwrap();
    let bulkhead = layer.handle();
    let (service, mocks) = mock::spawn_layer(layer);
    (service, bulkhead, mocks)
}

/// Sends `request` through `service`: the future, admitted or not.
fn send(service: &mut Service, request: Request) -> Response {
    assert_ready_ok!(
        service.poll_ready(),
        "a partitioned bulkhead is always ready"
    );
    service.call(request)
}

/// Sends `n` requests and keeps the futures, so their permits stay held.
fn hold(service: &mut Service, request: Request, n: usize) -> Vec<Response> {
    (0..n).map(|_| send(service, request)).collect()
}

async fn refusal(service: &mut Service, request: Request) -> BulkheadFull {
    let error: BoxError = send(service, request).await.expect_err("refused");
    error
        .downcast_ref::<BulkheadFull>()
        .expect("a bulkhead refusal")
        .clone()
}

#[tokio::test(start_paused = true)]
async fn a_guaranteed_share_survives_a_flood_of_others() {
    let (mut service, bulkhead, _mocks) = bulkhead();

    // Unpartitioned traffic fills the pool and nothing more.
    let _flood = hold(&mut service, "anonymous", 2);
    let refused = refusal(&mut service, "anonymous").await;
    assert_eq!(refused.partition(), None);
    assert_eq!(bulkhead.in_flight(), 2);

    // Each partition still gets its whole guaranteed share.
    let _gold = hold(&mut service, "gold", 3);
    let _silver = hold(&mut service, "silver", 1);
    assert_eq!(bulkhead.partition_in_flight("gold"), Some(3));
    assert_eq!(bulkhead.partition_in_flight("silver"), Some(1));
    assert_eq!(bulkhead.in_flight(), 6);

    let refused = refusal(&mut service, "gold").await;
    assert_eq!(refused.partition(), Some("gold"));
    assert_eq!(refused.max_in_flight(), 6);
}

#[tokio::test(start_paused = true)]
async fn a_partition_borrows_the_idle_pool() {
    let (mut service, bulkhead, _mocks) = bulkhead();
    let gold = hold(&mut service, "gold", 5);
    assert_eq!(
        bulkhead.partition_in_flight("gold"),
        Some(5),
        "3 reserved + 2 borrowed"
    );

    // The pool is lent out, but silver's reserve was never at risk.
    refusal(&mut service, "anonymous").await;
    let _silver = hold(&mut service, "silver", 1);
    let refused = refusal(&mut service, "silver").await;
    assert_eq!(refused.partition(), Some("silver"));

    // Returning the borrowed permits returns them to the pool.
    drop(gold);
    assert_eq!(bulkhead.in_flight(), 1);
    let _anonymous = hold(&mut service, "anonymous", 2);
    assert_eq!(bulkhead.in_flight(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_ceiling_bounds_what_a_partition_borrows() {
    let (mut service, bulkhead, _mocks) = bulkhead();
    let _silver = hold(&mut service, "silver", 2);
    let refused = refusal(&mut service, "silver").await;
    assert_eq!(refused.partition(), Some("silver"));
    assert_eq!(bulkhead.partition_in_flight("silver"), Some(2));

    // The pool still has a permit for others.
    let _anonymous = hold(&mut service, "anonymous", 1);
    assert_eq!(bulkhead.in_flight(), 3);
}

#[tokio::test(start_paused = true)]
async fn unknown_keys_use_the_pool() {
    let (mut service, bulkhead, _mocks) = bulkhead();
    let _unknown = hold(&mut service, "bronze", 2);
    assert_eq!(bulkhead.partition_in_flight("bronze"), None);
    let refused = refusal(&mut service, "bronze").await;
    assert_eq!(refused.partition(), None, "bronze is no partition");
}

#[tokio::test(start_paused = true)]
async fn admission_waits_for_the_request() {
    let (mut service, bulkhead, mut mocks) = bulkhead();
    assert_ready_ok!(service.poll_ready());
    assert_eq!(bulkhead.in_flight(), 0, "the key is not known yet");

    let response = service.call("gold");
    assert_eq!(bulkhead.in_flight(), 1);
    let (request, send) = mocks.next_request().await.unwrap();
    assert_eq!(request, "gold");
    send.send_response(());
    response.await.unwrap();
    assert_eq!(bulkhead.partition_in_flight("gold"), Some(0));
    assert_eq!(bulkhead.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_refused_partition_call_never_reaches_the_inner_service() {
    let (mut service, _bulkhead, mut mocks) = bulkhead();
    let _silver = hold(&mut service, "silver", 2);
    for _ in 0..2 {
        let (_, send) = mocks.next_request().await.unwrap();
        drop(send);
    }
    refusal(&mut service, "silver").await;
    assert!(
        mocks.poll_request().is_pending(),
        "no third request arrived"
    );
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "called before poll_ready")]
async fn a_partitioned_call_before_ready_panics() {
    let (mut service, _bulkhead, _mocks) = bulkhead();
    drop(service.call("gold"));
}

#[tokio::test(start_paused = true)]
async fn a_closure_reads_the_key() {
    struct Job {
        tenant: String,
    }
    let layer = BulkheadLayer::builder()
        .max_in_flight(1)
        .partition("gold", 1)
        .partition_key(|job: &Job| Some(job.tenant.as_str()))
        .build()
        .unwrap();
    let bulkhead = layer.handle();
    let (mut service, _mocks) = mock::spawn_layer::<Job, (), _>(layer);
    assert_ready_ok!(service.poll_ready());
    let _held = service.call(Job {
        tenant: "gold".to_owned(),
    });
    assert_eq!(bulkhead.partition_in_flight("gold"), Some(1));
}

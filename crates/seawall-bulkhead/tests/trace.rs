//! Each refusal is logged at trace under `seawall::bulkhead`.

use seawall_bulkhead::BulkheadLayer;
use seawall_test_support::capture::Capture;
use tokio_test::assert_ready_ok;
use tower_test::mock;
use tracing::Level;

type Request = &'static str;

fn tenant(request: &Request) -> Option<&str> {
    Some(request)
}

#[tokio::test(start_paused = true)]
async fn a_refusal_is_logged_with_its_fields() {
    // Installing also recomputes every site's interest, in case another
    // test's thread cached a site as never enabled before this subscriber
    // existed.
    let capture = Capture::default();
    let _guard = capture.install();

    let layer = BulkheadLayer::builder()
        .name("tenants")
        .max_in_flight(1)
        .partition("gold", 1)
        .partition_key(tenant)
        .build()
        .unwrap();
    let (mut service, _mocks) = mock::spawn_layer::<Request, (), _>(layer);
    assert_ready_ok!(service.poll_ready());
    let _held = service.call("gold");
    assert_ready_ok!(service.poll_ready());
    service.call("gold").await.unwrap_err();

    let refusals = capture.find("request refused");
    assert_eq!(refusals.len(), 1, "{:#?}", capture.events());
    let refusal = &refusals[0];
    assert_eq!(refusal.level, Level::TRACE, "{refusal:?}");
    assert_eq!(refusal.target, "seawall::bulkhead", "{refusal:?}");
    assert_eq!(refusal.field("name"), Some("tenants"), "{refusal:?}");
    assert_eq!(refusal.field("partition"), Some("gold"), "{refusal:?}");
    assert_eq!(refusal.field("max_in_flight"), Some("1"), "{refusal:?}");
}

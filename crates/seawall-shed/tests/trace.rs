//! Material limit changes are logged at debug and refusals at trace, under
//! `seawall::shed`.
//!
//! Alone in its test binary: an event site first reached by another test's
//! thread, while this test installs its subscriber, could be cached as
//! never enabled.

mod support;

use seawall_shed::ShedLayer;
use seawall_test_support::capture::Capture;
use tokio_test::assert_ready_ok;
use tower_test::mock;

use support::Probe;

#[tokio::test(start_paused = true)]
async fn material_limit_changes_are_logged_at_debug_and_refusals_at_trace() {
    let capture = Capture::default();
    let _guard = capture.install();
    let probe = Probe::new(100);
    let layer = ShedLayer::builder()
        .name("api")
        .algorithm(probe.clone())
        .build()
        .unwrap();
    let (mut service, mut handle) = mock::spawn_layer::<&'static str, (), _>(layer);

    // 100 -> 105 -> 110 -> 1: the second and third are 10% or more away
    // from the last change logged.
    for next in [105, 110, 1] {
        probe.set_limit(next);
        assert_ready_ok!(service.poll_ready());
        let response = service.call("request");
        let (_, send) = handle.next_request().await.unwrap();
        send.send_response(());
        response.await.unwrap();
    }
    let changes: Vec<_> = capture
        .find("limit changed")
        .into_iter()
        .filter(|e| e.target == "seawall::shed")
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(changes.iter().all(|e| e.level == tracing::Level::DEBUG));
    assert_eq!(changes[0].field("name"), Some("api"));
    assert_eq!(changes[0].field("algorithm"), Some("probe"));
    assert_eq!(changes[0].field("previous"), Some("100"));
    assert_eq!(changes[0].field("limit"), Some("110"));
    assert_eq!(changes[1].field("previous"), Some("110"));
    assert_eq!(changes[1].field("limit"), Some("1"));

    // Refusals are per request: trace, with the reason.
    assert_ready_ok!(service.poll_ready());
    let _held = service.call("held");
    assert_ready_ok!(service.poll_ready());
    service.call("refused").await.unwrap_err();
    let shed = capture.find("request shed");
    assert_eq!(shed.len(), 1);
    assert_eq!(shed[0].level, tracing::Level::TRACE);
    assert_eq!(shed[0].target, "seawall::shed");
    assert_eq!(shed[0].field("reason"), Some("limit"));
    assert_eq!(shed[0].field("limit"), Some("1"));
}

//! Metrics of the drain, the gate and the back-off.

use std::time::Duration;

use http::{Request, Response, StatusCode};
use seawall_handshake::{BackoffLayer, Drain, ReadinessGateLayer};
use seawall_test_support::recorder::TestRecorder;
use tokio_test::assert_ready_ok;
use tower::{service_fn, ServiceExt};
use tower_layer::Layer;
use tower_test::mock;

#[tokio::test(start_paused = true)]
async fn the_drain_reports_its_state_and_the_gate_its_refusals() {
    let recorder = TestRecorder::default();
    let drain = metrics::with_local_recorder(&recorder, || {
        Drain::builder()
            .name("api")
            .notice_delay(Duration::from_secs(1))
            .build()
            .unwrap()
    });
    let draining = "seawall_handshake_draining{name=api}";
    let refused = "seawall_handshake_refused_total{name=api}";
    assert_eq!(recorder.value(draining), Some(0.0));
    assert_eq!(recorder.value(refused), Some(0.0));
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(ReadinessGateLayer::new(&drain));

    let _waiting = drain.drain();
    assert_eq!(recorder.value(draining), Some(1.0));

    // Served during the notice delay: not a refusal.
    assert_ready_ok!(service.poll_ready());
    let served = service.call("noticed late");
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response("ok");
    served.await.unwrap();
    assert_eq!(recorder.value(refused), Some(0.0));

    tokio::time::advance(Duration::from_secs(1)).await;
    for _ in 0..2 {
        assert_ready_ok!(service.poll_ready());
        service.call("refused").await.unwrap_err();
    }
    assert_eq!(recorder.value(refused), Some(2.0));

    drain.undrain();
    assert_eq!(recorder.value(draining), Some(0.0));
}

#[tokio::test(start_paused = true)]
async fn the_back_off_counts_the_calls_it_fails_fast() {
    let recorder = TestRecorder::default();
    let layer = metrics::with_local_recorder(&recorder, || {
        BackoffLayer::builder().name("payments").build().unwrap()
    });
    let upstream = service_fn(|_: Request<()>| async {
        let busy = Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .header("retry-after", "2")
            .body(())?;
        Ok::<_, http::Error>(busy)
    });
    let client = layer.layer(upstream);
    let request = || Request::get("http://pay.example/").body(()).unwrap();
    let refused = "seawall_handshake_backoff_refused_total{name=payments}";

    client.clone().oneshot(request()).await.unwrap();
    assert_eq!(
        recorder.value(refused),
        Some(0.0),
        "the 503 itself came through"
    );
    client.clone().oneshot(request()).await.unwrap_err();
    client.clone().oneshot(request()).await.unwrap_err();
    assert_eq!(recorder.value(refused), Some(2.0));

    tokio::time::advance(Duration::from_secs(2)).await;
    client.oneshot(request()).await.unwrap();
    assert_eq!(recorder.value(refused), Some(2.0));
}

//! The README's first command runs this scenario; here it is checked.
//!
//! The burst is real traffic over loopback, so exactly how many requests
//! overlap depends on the machine; what must hold whatever the timing is
//! asserted: at least two served, some refused, every refusal a 503 with
//! `Retry-After`, the stuck request cut off with a 504, nothing held after.
//! The exact limit of two is proven without timing in
//! `crates/seawall/tests/axum_bulkhead.rs`.

use seawall_examples::app::{HANDLER_TIMEOUT, MAX_IN_FLIGHT};
use seawall_examples::demo;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_two_refuses_the_rest_and_times_out_the_stuck() {
    let report = demo::run(10).await.expect("the demo runs");

    assert_eq!(report.burst.len(), 10);
    let served: Vec<_> = report.burst.iter().filter(|a| a.status == 200).collect();
    let refused: Vec<_> = report.burst.iter().filter(|a| a.status == 503).collect();
    assert_eq!(served.len() + refused.len(), 10, "{:?}", report.burst);
    assert!(served.len() >= MAX_IN_FLIGHT, "{:?}", report.burst);
    assert!(!refused.is_empty(), "a burst of 10 must overflow 2 permits");
    for answer in &served {
        assert_eq!(answer.body, "done");
    }
    for answer in &refused {
        assert_eq!(answer.retry_after.as_deref(), Some("1"));
        assert!(answer.body.contains("\"status\":503"), "{}", answer.body);
    }

    assert_eq!(report.stuck.status, 504);
    assert!(report.stuck.took >= HANDLER_TIMEOUT);
    assert_eq!(report.in_flight_after, 0);
}

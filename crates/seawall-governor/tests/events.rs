//! The governor's log events: refusals and evictions.
//!
//! A test binary of their own, where every test installs its subscriber
//! before it reaches an event: tracing caches each event's interest when
//! the event is first reached, and a test on another thread reaching it
//! with no subscriber, while one is installed here, could leave it cached
//! as never enabled. Keep it so: a test added here installs first.

mod support;

use std::time::Duration;

use seawall_test_support::capture::Capture;
use support::keyed;
use tracing::Level;

#[test]
fn refusals_and_evictions_are_logged_with_their_fields() {
    let capture = Capture::default();
    let _guard = capture.install();
    let layer = keyed(1);
    let limiter = layer.limiter();
    let now = limiter.origin();
    limiter.check_key_at(&1, now).unwrap();
    limiter.check_key_at(&1, now).unwrap_err();
    limiter
        .check_key_at(&2, now + Duration::from_secs(120))
        .unwrap();

    let events = capture.events();
    let refusals = capture.find("request refused");
    let refusal = refusals.first().unwrap_or_else(|| panic!("{events:#?}"));
    assert_eq!(refusal.level, Level::TRACE, "{refusal:?}");
    assert_eq!(refusal.target, "seawall::governor", "{refusal:?}");
    assert_eq!(refusal.field("name"), Some("api"), "{refusal:?}");
    assert_eq!(refusal.field("quota"), Some("client"), "{refusal:?}");
    assert_eq!(refusal.field("retry_after"), Some("60s"), "{refusal:?}");

    let evictions = capture.find("keys evicted");
    let eviction = evictions.first().unwrap_or_else(|| panic!("{events:#?}"));
    assert_eq!(eviction.level, Level::DEBUG, "{eviction:?}");
    assert_eq!(eviction.target, "seawall::governor", "{eviction:?}");
    assert_eq!(eviction.field("evicted"), Some("1"), "{eviction:?}");
    assert_eq!(
        eviction.field("limited"),
        Some("0"),
        "idle at 120 s: {eviction:?}"
    );
}

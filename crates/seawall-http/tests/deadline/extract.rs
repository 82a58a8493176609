use std::convert::Infallible;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Request};
use proptest::prelude::*;
use seawall_core::Deadline;
use seawall_http::{ExtractDeadlineLayer, DEFAULT_DEADLINE_HEADER};
use tower::{service_fn, Layer, ServiceExt};

/// What the service behind the layer sees of the deadline: its remaining
/// time, or `None` when no deadline was inserted.
async fn seen(layer: &ExtractDeadlineLayer, request: Request<()>) -> Option<Duration> {
    let inner = service_fn(|request: Request<()>| async move {
        let deadline = request.extensions().get::<Deadline>().copied();
        Ok::<_, Infallible>(deadline.map(|d| d.remaining()))
    });
    let Ok(remaining) = layer.layer(inner).oneshot(request).await;
    remaining
}

fn with_values(name: &HeaderName, values: &[&[u8]]) -> Request<()> {
    let mut request = Request::new(());
    for value in values {
        let value = HeaderValue::from_bytes(value).unwrap();
        request.headers_mut().append(name.clone(), value);
    }
    request
}

#[tokio::test(start_paused = true)]
async fn header_values_are_read_or_ignored_by_the_table() {
    let layer = ExtractDeadlineLayer::new();
    let ms = |n| Some(Duration::from_millis(n));
    let max = Some(Duration::from_secs(60));
    let table: [(&[&[u8]], Option<Duration>); 21] = [
        (&[], None),
        (&[b"250"], ms(250)),
        (&[b"0"], ms(0)),
        (&[b" 42 "], ms(42)),
        (&[b"\t42"], ms(42)),
        (&[b"007"], ms(7)),
        (&[b"60000"], ms(60_000)),
        (&[b"60001"], max),
        (&[b"18446744073709551615"], max),
        (&[b""], None),
        (&[b"   "], None),
        (&[b"abc"], None),
        (&[b"-5"], None),
        (&[b"+5"], None),
        (&[b"1.5"], None),
        (&[b"10ms"], None),
        (&[b"1 2"], None),
        (&[b"18446744073709551616"], None),
        (&["\u{661}\u{662}".as_bytes()], None),
        (&[b"100", b"200"], None),
        (&[b"100", b"100"], None),
    ];
    for (values, expected) in table {
        let request = with_values(&DEFAULT_DEADLINE_HEADER, values);
        assert_eq!(seen(&layer, request).await, expected, "{values:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_cap_and_the_header_name_are_configurable() {
    let name = HeaderName::from_static("x-budget");
    let layer = ExtractDeadlineLayer::builder()
        .header(name.clone())
        .max_budget(Duration::from_secs(5))
        .build()
        .unwrap();

    let over = with_values(&name, &[b"10000"]);
    assert_eq!(seen(&layer, over).await, Some(Duration::from_secs(5)));
    let under = with_values(&name, &[b"4000"]);
    assert_eq!(seen(&layer, under).await, Some(Duration::from_secs(4)));

    // The default header means nothing to this layer.
    let other = with_values(&DEFAULT_DEADLINE_HEADER, &[b"100"]);
    assert_eq!(seen(&layer, other).await, None);
}

#[tokio::test(start_paused = true)]
async fn an_earlier_deadline_already_there_is_kept() {
    let layer = ExtractDeadlineLayer::new();

    let mut request = with_values(&DEFAULT_DEADLINE_HEADER, &[b"500"]);
    request
        .extensions_mut()
        .insert(Deadline::after(Duration::from_millis(100)));
    assert_eq!(
        seen(&layer, request).await,
        Some(Duration::from_millis(100))
    );

    let mut request = with_values(&DEFAULT_DEADLINE_HEADER, &[b"500"]);
    request
        .extensions_mut()
        .insert(Deadline::after(Duration::from_millis(900)));
    assert_eq!(
        seen(&layer, request).await,
        Some(Duration::from_millis(500))
    );

    // A malformed header leaves the existing deadline alone.
    let mut request = with_values(&DEFAULT_DEADLINE_HEADER, &[b"x"]);
    request
        .extensions_mut()
        .insert(Deadline::after(Duration::from_millis(900)));
    assert_eq!(
        seen(&layer, request).await,
        Some(Duration::from_millis(900))
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_runs_from_when_the_request_arrived() {
    let layer = ExtractDeadlineLayer::new();
    let inner = service_fn(|request: Request<()>| async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let deadline = request.extensions().get::<Deadline>().copied().unwrap();
        Ok::<_, Infallible>(deadline.remaining())
    });
    let request = with_values(&DEFAULT_DEADLINE_HEADER, &[b"1000"]);
    let Ok(remaining) = layer.layer(inner).oneshot(request).await;
    assert_eq!(remaining, Duration::from_millis(700));
}

#[test]
fn the_builder_refuses_a_cap_out_of_range() {
    for max in [
        Duration::ZERO,
        Duration::from_micros(999),
        Duration::from_secs(86_401),
    ] {
        let error = ExtractDeadlineLayer::builder()
            .max_budget(max)
            .build()
            .unwrap_err();
        assert_eq!(error.field(), "max_budget");
        assert_eq!(error.to_string(), "max_budget must be between 1ms and 24h");
    }
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

proptest! {
    #[test]
    fn any_integer_is_read_and_capped(ms: u64) {
        let runtime = paused_runtime();
        let layer = ExtractDeadlineLayer::new();
        let request = with_values(&DEFAULT_DEADLINE_HEADER, &[ms.to_string().as_bytes()]);
        let seen = runtime.block_on(seen(&layer, request));
        prop_assert_eq!(seen, Some(Duration::from_millis(ms.min(60_000))));
    }

    #[test]
    fn anything_with_a_non_digit_is_ignored(value in "[ -~]*[^0-9 \t\r\n\u{7f}\u{0}-\u{1f}][ -~]*") {
        let runtime = paused_runtime();
        let layer = ExtractDeadlineLayer::new();
        let Ok(value) = HeaderValue::from_str(&value) else {
            return Ok(());
        };
        let mut request = Request::new(());
        request.headers_mut().insert(DEFAULT_DEADLINE_HEADER, value);
        prop_assert_eq!(runtime.block_on(seen(&layer, request)), None);
    }
}

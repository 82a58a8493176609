use std::convert::Infallible;
use std::time::Duration;

use http::{HeaderMap, HeaderName, Request};
use seawall_core::Deadline;
use seawall_http::{PropagateDeadlineLayer, DEFAULT_DEADLINE_HEADER};
use tower::{service_fn, Layer, ServiceExt};

/// The headers the next hop receives.
async fn sent(layer: &PropagateDeadlineLayer, request: Request<()>) -> HeaderMap {
    let transport =
        service_fn(
            |request: Request<()>| async move { Ok::<_, Infallible>(request.headers().clone()) },
        );
    let Ok(headers) = layer.layer(transport).oneshot(request).await;
    headers
}

fn values<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect()
}

fn with_deadline(budget: Duration) -> Request<()> {
    let mut request = Request::new(());
    request.extensions_mut().insert(Deadline::after(budget));
    request
}

#[tokio::test(start_paused = true)]
async fn the_remaining_time_is_written_and_shrinks_with_time() {
    let layer = PropagateDeadlineLayer::new();
    let deadline = Deadline::after(Duration::from_millis(1000));
    let request = || {
        let mut request = Request::new(());
        request.extensions_mut().insert(deadline);
        request
    };

    let headers = sent(&layer, request()).await;
    assert_eq!(values(&headers, &DEFAULT_DEADLINE_HEADER), ["1000"]);

    tokio::time::advance(Duration::from_millis(300)).await;
    let headers = sent(&layer, request()).await;
    assert_eq!(values(&headers, &DEFAULT_DEADLINE_HEADER), ["700"]);

    // Rounded down: 0.5 ms left is 0, not 1.
    tokio::time::advance(Duration::from_micros(699_500)).await;
    let headers = sent(&layer, request()).await;
    assert_eq!(values(&headers, &DEFAULT_DEADLINE_HEADER), ["0"]);

    // Expired is written as 0, not failed.
    tokio::time::advance(Duration::from_secs(5)).await;
    let headers = sent(&layer, request()).await;
    assert_eq!(values(&headers, &DEFAULT_DEADLINE_HEADER), ["0"]);
}

#[tokio::test(start_paused = true)]
async fn sub_millisecond_remainders_round_down() {
    let layer = PropagateDeadlineLayer::new();
    let headers = sent(&layer, with_deadline(Duration::from_micros(1999))).await;
    assert_eq!(values(&headers, &DEFAULT_DEADLINE_HEADER), ["1"]);
}

#[tokio::test(start_paused = true)]
async fn an_inbound_copy_is_replaced_or_removed() {
    let layer = PropagateDeadlineLayer::new();

    let mut forwarded = with_deadline(Duration::from_millis(250));
    let headers = forwarded.headers_mut();
    headers.append(DEFAULT_DEADLINE_HEADER, "99999".parse().unwrap());
    headers.append(DEFAULT_DEADLINE_HEADER, "12".parse().unwrap());
    let headers = sent(&layer, forwarded).await;
    assert_eq!(values(&headers, &DEFAULT_DEADLINE_HEADER), ["250"]);

    let mut without_deadline = Request::new(());
    without_deadline
        .headers_mut()
        .insert(DEFAULT_DEADLINE_HEADER, "99999".parse().unwrap());
    without_deadline
        .headers_mut()
        .insert("x-other", "kept".parse().unwrap());
    let headers = sent(&layer, without_deadline).await;
    assert!(!headers.contains_key(DEFAULT_DEADLINE_HEADER));
    assert_eq!(headers["x-other"], "kept");
}

#[tokio::test(start_paused = true)]
async fn the_header_name_is_configurable() {
    let name = HeaderName::from_static("x-budget");
    let layer = PropagateDeadlineLayer::new().header(name.clone());
    let headers = sent(&layer, with_deadline(Duration::from_secs(2))).await;
    assert_eq!(values(&headers, &name), ["2000"]);
    assert!(!headers.contains_key(DEFAULT_DEADLINE_HEADER));
}

#[tokio::test(start_paused = true)]
async fn a_huge_deadline_is_written_without_overflow() {
    let layer = PropagateDeadlineLayer::new();
    let headers = sent(&layer, with_deadline(Duration::MAX)).await;
    let written: u64 = values(&headers, &DEFAULT_DEADLINE_HEADER)[0]
        .parse()
        .unwrap();
    assert!(written > 365 * 24 * 3600 * 1000, "{written}");
}

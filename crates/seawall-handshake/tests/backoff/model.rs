//! Random calls and time advances, against a model of the latest
//! `Retry-After` per upstream.

use std::time::Duration;

use http::{header, Request, Response, StatusCode};
use proptest::prelude::*;
use seawall_handshake::backoff::{BackoffLayer, UpstreamBackoff};
use tokio::runtime::Builder;
use tokio::time::advance;
use tokio_test::{assert_ready, assert_ready_ok};
use tower::Layer;
use tower_test::mock::Spawn;
#[derive(Debug, Clone)]
enum Op {
    Call {
        upstream: usize,
        status: StatusCode,
        retry_after: u64,
    },
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let status = prop_oneof![
        Just(StatusCode::SERVICE_UNAVAILABLE),
        Just(StatusCode::TOO_MANY_REQUESTS),
        Just(StatusCode::OK),
    ];
    prop_oneof![
        3 => (0..4usize, status, 0..12u64).prop_map(|(upstream, status, retry_after)| {
            Op::Call { upstream, status, retry_after }
        }),
        1 => (0..4000u64).prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Against a model that keeps, per upstream, the latest time it asked
    /// for: a call is refused exactly while that time is ahead, with the
    /// time left, and otherwise reaches the upstream.
    #[test]
    fn refusals_match_a_model_of_the_latest_retry_after(
        ops in proptest::collection::vec(op(), 0..40),
    ) {
        let runtime = Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a paused runtime");
        runtime.block_on(async move {
            let layer = BackoffLayer::new();
            // The upstream answers with the status and Retry-After the
            // request asks for.
            let upstream = tower::service_fn(|request: Request<(StatusCode, u64)>| async move {
                let (status, retry_after) = *request.body();
                let response = Response::builder()
                    .status(status)
                    .header(header::RETRY_AFTER, retry_after)
                    .body(())?;
                Ok::<_, http::Error>(response)
            });
            let mut client = Spawn::new(layer.layer(upstream));
            let start = tokio::time::Instant::now();
            let mut until = [Duration::ZERO; 4];

            for op in ops {
                match op {
                    Op::Advance(millis) => advance(Duration::from_millis(millis)).await,
                    Op::Call { upstream, status, retry_after } => {
                        let now = start.elapsed();
                        let uri = format!("http://upstream-{upstream}.example/");
                        let request = Request::get(uri)
                            .body((status, retry_after))
                            .expect("a valid request");
                        assert_ready_ok!(client.poll_ready());
                        let mut call = tokio_test::task::spawn(client.call(request));
                        let result = assert_ready!(call.poll());
                        if until[upstream] > now {
                            let error = result.expect_err("refused");
                            let refusal = error
                                .downcast_ref::<UpstreamBackoff>()
                                .expect("an UpstreamBackoff");
                            prop_assert_eq!(refusal.retry_after(), until[upstream] - now);
                        } else {
                            prop_assert_eq!(result.expect("answered").status(), status);
                            if status != StatusCode::OK && retry_after > 0 {
                                let asked = now + Duration::from_secs(retry_after);
                                until[upstream] = until[upstream].max(asked);
                            }
                        }
                    }
                }
            }
            prop_assert!(layer.remembered() <= 4);
            Ok(())
        })?;
    }
}

//! `HttpClassifier` over statuses and error kinds.

use std::convert::Infallible;
use std::error::Error;
use std::fmt;
use std::time::Duration;

use http::header::RETRY_AFTER;
use http::{Response, StatusCode};
use proptest::prelude::*;
use seawall_core::rejection::{BulkheadFull, Elapsed, Overloaded, Phase};
use seawall_core::{BoxError, Classify, FailureKind, Outcome};
use seawall_http::HttpClassifier;

const ERROR: Outcome = Outcome::Failure(FailureKind::Error);
const REJECTED: Outcome = Outcome::Failure(FailureKind::Rejected);
const TIMEOUT: Outcome = Outcome::Failure(FailureKind::Timeout);

fn response(status: u16, retry_after: bool) -> Response<()> {
    let mut builder = Response::builder().status(status);
    if retry_after {
        builder = builder.header(RETRY_AFTER, "5");
    }
    builder.body(()).unwrap()
}

fn classify(result: Result<Response<()>, BoxError>) -> Outcome {
    HttpClassifier.classify(&result, Duration::from_millis(10))
}

#[test]
fn statuses_are_classified_by_the_table() {
    let table = [
        (100, false, Outcome::Success),
        (101, false, Outcome::Success),
        (200, false, Outcome::Success),
        (204, false, Outcome::Success),
        (301, false, Outcome::Success),
        (304, false, Outcome::Success),
        (400, false, Outcome::Ignored),
        (401, false, Outcome::Ignored),
        (404, false, Outcome::Ignored),
        (408, false, Outcome::Ignored),
        (404, true, Outcome::Ignored),
        (429, false, REJECTED),
        (429, true, REJECTED),
        (499, false, Outcome::Ignored),
        (500, false, ERROR),
        (500, true, ERROR),
        (502, false, ERROR),
        (503, false, ERROR),
        (503, true, REJECTED),
        (504, false, ERROR),
        (599, false, ERROR),
        (600, false, ERROR),
        (999, false, ERROR),
    ];
    for (status, retry_after, expected) in table {
        let outcome = classify(Ok(response(status, retry_after)));
        assert_eq!(
            outcome, expected,
            "status {status}, retry-after {retry_after}"
        );
    }
}

#[derive(Debug)]
struct Wrapped(BoxError);

impl fmt::Display for Wrapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("client call failed")
    }
}

impl Error for Wrapped {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.0)
    }
}

#[test]
fn errors_are_split_into_timeouts_local_refusals_and_transport() {
    let timeout = Elapsed::new(Duration::from_secs(1), Phase::Response);
    let table: Vec<(BoxError, Outcome)> = vec![
        (timeout.clone().into(), TIMEOUT),
        (
            Elapsed::new(Duration::from_secs(1), Phase::Ready)
                .by_deadline()
                .into(),
            TIMEOUT,
        ),
        (Box::new(Wrapped(timeout.into())), TIMEOUT),
        (BulkheadFull::new(4).into(), Outcome::Ignored),
        (
            Box::new(Wrapped(BulkheadFull::new(4).into())),
            Outcome::Ignored,
        ),
        (Overloaded::new(4).into(), Outcome::Ignored),
        ("connection refused".into(), ERROR),
        (std::io::Error::other("reset by peer").into(), ERROR),
        (Box::new(Wrapped("tls handshake".into())), ERROR),
    ];
    for (error, expected) in table {
        let shown = error.to_string();
        assert_eq!(classify(Err(error)), expected, "error {shown}");
    }
}

#[test]
fn other_error_types_are_classified_too() {
    let io: Result<Response<()>, std::io::Error> = Err(std::io::Error::other("reset"));
    assert_eq!(HttpClassifier.classify(&io, Duration::ZERO), ERROR);

    let send_only: Result<Response<()>, Box<dyn Error + Send>> =
        Err(Box::new(BulkheadFull::new(1)));
    assert_eq!(
        HttpClassifier.classify(&send_only, Duration::ZERO),
        Outcome::Ignored
    );

    let plain: Result<Response<()>, Box<dyn Error>> =
        Err(Box::new(Elapsed::new(Duration::ZERO, Phase::Response)));
    assert_eq!(HttpClassifier.classify(&plain, Duration::ZERO), TIMEOUT);

    let infallible: Result<Response<()>, Infallible> = Ok(response(503, true));
    assert_eq!(
        HttpClassifier.classify(&infallible, Duration::ZERO),
        REJECTED
    );
}

proptest! {
    #[test]
    fn every_status_matches_the_model(status in 100u16..1000, retry_after: bool) {
        let expected = match status {
            429 => REJECTED,
            503 if retry_after => REJECTED,
            100..=399 => Outcome::Success,
            400..=499 => Outcome::Ignored,
            _ => ERROR,
        };
        prop_assert_eq!(classify(Ok(response(status, retry_after))), expected);
        prop_assert_eq!(
            HttpClassifier.classify_status(StatusCode::from_u16(status).unwrap(), response(status, retry_after).headers()),
            expected
        );
    }
}

#[test]
fn retry_after_is_read_only_from_refusals() {
    use http::Response;
    use seawall_core::{BoxError, Classify};
    use seawall_http::HttpClassifier;
    use std::time::Duration;

    let answer = |status: u16, retry_after: &str| -> Result<Response<()>, BoxError> {
        Ok(Response::builder()
            .status(status)
            .header("retry-after", retry_after)
            .body(())
            .expect("a response"))
    };
    let c = HttpClassifier;
    assert_eq!(
        c.retry_after(&answer(503, "2")),
        Some(Duration::from_secs(2))
    );
    assert_eq!(
        c.retry_after(&answer(429, "7")),
        Some(Duration::from_secs(7))
    );
    assert_eq!(
        c.retry_after(&answer(503, "86400")),
        Some(seawall_http::retry_after::MAX_RETRY_AFTER)
    );
    assert_eq!(c.retry_after(&answer(503, "garbage")), None);
    // A 500 or a 200 carrying the header asks nothing of the caller.
    assert_eq!(c.retry_after(&answer(500, "2")), None);
    assert_eq!(c.retry_after(&answer(200, "2")), None);
    let failed: Result<Response<()>, BoxError> = Err("reset".into());
    assert_eq!(c.retry_after(&failed), None);
}

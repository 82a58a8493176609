//! Judging `reqwest::Client`'s results for a circuit breaker.
//!
//! seawall-http's [`HttpClassifier`] judges `http::Response`s, but
//! `reqwest::Client`, as a `tower::Service<reqwest::Request>`, answers with
//! reqwest's own `Response` and `Error`. [`ReqwestClassifier`] applies the
//! same table to them and reads the upstream's `Retry-After`, which a plain
//! closure classifier cannot pass on to the breaker.
//!
//! Enabled by the `reqwest` feature.

use std::time::{Duration, SystemTime};

use reqwest::header::RETRY_AFTER;
use reqwest::StatusCode;
use seawall_core::{BoxError, Classify, DefaultClassifier, FailureKind, Outcome};

use crate::retry_after::parse_retry_after;
use crate::HttpClassifier;

/// Classifies what `reqwest::Client` returns, for a circuit breaker (or any
/// layer that learns from outcomes) right around the client.
///
/// | result | outcome |
/// |---|---|
/// | a response | by its status and headers, as [`HttpClassifier`] judges them: 5xx fail, 429 and 503 with `Retry-After` are refusals, other 4xx are ignored |
/// | reqwest's own timeout (`Error::is_timeout`) | [`Outcome::Failure`]`(`[`FailureKind::Timeout`]`)` |
/// | a request that could not be built (`Error::is_builder`) | [`Outcome::Ignored`]: the caller's mistake |
/// | any other reqwest error (connect, protocol, body) | [`Outcome::Failure`]`(`[`FailureKind::Error`]`)` |
///
/// It classifies `Result<reqwest::Response, reqwest::Error>` (the breaker
/// wraps the client directly) and `Result<reqwest::Response, BoxError>`
/// (other seawall layers sit between them, such as a per-attempt timeout):
/// there, a reqwest error found in the box is judged as above, and
/// anything else as [`DefaultClassifier`] judges errors (a seawall timeout
/// fails, another layer's local refusal is ignored).
///
/// [`Classify::retry_after`] reads `Retry-After` on a 429 or a 503, so the
/// breaker stays open as long as the upstream asked.
///
/// ```
/// use std::time::Duration;
/// use seawall_core::{BoxError, Classify, Outcome};
/// use seawall_http::ReqwestClassifier;
///
/// // A request that could not even be built is the caller's mistake.
/// let unbuildable = reqwest::Client::new().get("not a url").build().map(|_| unreachable!());
/// let result: Result<reqwest::Response, reqwest::Error> = unbuildable;
/// assert_eq!(ReqwestClassifier.classify(&result, Duration::ZERO), Outcome::Ignored);
/// ```
///
/// `examples/src/reqwest_demo.rs` in the repository wraps a
/// `reqwest::Client` in a circuit breaker with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReqwestClassifier;

impl Classify<reqwest::Response, reqwest::Error> for ReqwestClassifier {
    fn classify(
        &self,
        result: &Result<reqwest::Response, reqwest::Error>,
        _elapsed: Duration,
    ) -> Outcome {
        match result {
            Ok(response) => classify_response(response),
            Err(error) => classify_reqwest_error(error),
        }
    }

    fn retry_after(&self, result: &Result<reqwest::Response, reqwest::Error>) -> Option<Duration> {
        retry_after(result.as_ref().ok()?)
    }

    fn uses_elapsed(&self) -> bool {
        false
    }
}

impl Classify<reqwest::Response, BoxError> for ReqwestClassifier {
    fn classify(&self, result: &Result<reqwest::Response, BoxError>, elapsed: Duration) -> Outcome {
        match result {
            Ok(response) => classify_response(response),
            Err(error) => match error.downcast_ref::<reqwest::Error>() {
                Some(error) => classify_reqwest_error(error),
                None => DefaultClassifier.classify(result, elapsed),
            },
        }
    }

    fn retry_after(&self, result: &Result<reqwest::Response, BoxError>) -> Option<Duration> {
        retry_after(result.as_ref().ok()?)
    }

    fn uses_elapsed(&self) -> bool {
        false
    }
}

fn classify_response(response: &reqwest::Response) -> Outcome {
    HttpClassifier.classify_status(response.status(), response.headers())
}

fn classify_reqwest_error(error: &reqwest::Error) -> Outcome {
    if error.is_timeout() {
        Outcome::Failure(FailureKind::Timeout)
    } else if error.is_builder() {
        Outcome::Ignored
    } else {
        Outcome::Failure(FailureKind::Error)
    }
}

/// The upstream's `Retry-After` on a 429 or a 503; malformed or past values
/// are ignored, as seawall-http reads them.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let status = response.status();
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    parse_retry_after(response.headers().get(RETRY_AFTER)?, SystemTime::now())
}

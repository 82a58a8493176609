//! Classifying HTTP calls for the layers that learn from results.

use std::convert::Infallible;
use std::error::Error;
use std::time::{Duration, SystemTime};

use http::header::RETRY_AFTER;
use http::{HeaderMap, Response, StatusCode};
use seawall_core::classify::classify_error;
use seawall_core::{BoxError, Classify, FailureKind, Outcome};

use crate::retry_after::parse_retry_after;

/// The classifier for HTTP calls: judges a response by its status and an
/// error by whether a seawall layer refused it.
///
/// | result | outcome |
/// |---|---|
/// | 1xx, 2xx, 3xx | [`Outcome::Success`] |
/// | 429, or 503 with a `Retry-After` header | [`Outcome::Failure`]`(`[`FailureKind::Rejected`]`)`: the upstream refused work; it is overloaded rather than broken |
/// | any other 5xx, or a status of 600 and above | [`Outcome::Failure`]`(`[`FailureKind::Error`]`)` |
/// | any other 4xx | [`Outcome::Ignored`]: the caller's mistake says nothing about the upstream |
/// | a seawall timeout ([`Elapsed`](seawall_core::rejection::Elapsed)) | [`Outcome::Failure`]`(`[`FailureKind::Timeout`]`)` |
/// | any other seawall rejection | [`Outcome::Ignored`]: a local refusal says nothing about the upstream |
/// | any other error (transport, protocol) | [`Outcome::Failure`]`(`[`FailureKind::Error`]`)` |
///
/// Only the presence of `Retry-After` makes a 503 a refusal; its value is
/// what [`Classify::retry_after`] reports, so a circuit breaker can stay
/// open as long as the upstream asked (see [`crate::retry_after`]). A
/// slow-call threshold is not judged here; the layer that owns it (the
/// breaker) does that from the elapsed time.
///
/// It classifies `Result<http::Response<B>, E>` for any error type that
/// implements [`AsError`]: `BoxError` (what every seawall layer returns) and
/// a few common concrete errors. For another error type, implement
/// [`AsError`] for it, or classify with a closure that calls
/// [`classify_response`](HttpClassifier::classify_response) and
/// [`classify_error`]:
///
/// ```
/// use std::time::Duration;
/// use http::{Response, StatusCode};
/// use seawall_core::{BoxError, Classify, FailureKind, Outcome};
/// use seawall_http::HttpClassifier;
///
/// let overloaded: Result<Response<()>, BoxError> = Ok(Response::builder()
///     .status(StatusCode::TOO_MANY_REQUESTS)
///     .body(())
///     .unwrap());
/// assert_eq!(
///     HttpClassifier.classify(&overloaded, Duration::ZERO),
///     Outcome::Failure(FailureKind::Rejected),
/// );
///
/// // An error type of your own, through a closure.
/// #[derive(Debug)]
/// struct Transport;
/// let classify = |result: &Result<Response<()>, Transport>, _: Duration| match result {
///     Ok(response) => HttpClassifier.classify_response(response),
///     Err(_) => Outcome::Failure(FailureKind::Error),
/// };
/// assert_eq!(classify.classify(&Err(Transport), Duration::ZERO), Outcome::Failure(FailureKind::Error));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpClassifier;

impl HttpClassifier {
    /// Classifies a response by its status and headers; see the table on
    /// [`HttpClassifier`].
    pub fn classify_status(&self, status: StatusCode, headers: &HeaderMap) -> Outcome {
        let refused = status == StatusCode::TOO_MANY_REQUESTS
            || (status == StatusCode::SERVICE_UNAVAILABLE && headers.contains_key(RETRY_AFTER));
        if refused {
            return Outcome::Failure(FailureKind::Rejected);
        }
        match status.as_u16() {
            100..=399 => Outcome::Success,
            400..=499 => Outcome::Ignored,
            _ => Outcome::Failure(FailureKind::Error),
        }
    }

    /// Classifies a response; see the table on [`HttpClassifier`].
    pub fn classify_response<B>(&self, response: &Response<B>) -> Outcome {
        self.classify_status(response.status(), response.headers())
    }
}

impl<B, E> Classify<Response<B>, E> for HttpClassifier
where
    E: AsError,
{
    fn classify(&self, result: &Result<Response<B>, E>, _elapsed: Duration) -> Outcome {
        match result {
            Ok(response) => self.classify_response(response),
            Err(error) => classify_error(error.as_error()),
        }
    }

    /// The status decides; the elapsed time is the breaker's business, so a
    /// layer need not read the clock for this classifier.
    fn uses_elapsed(&self) -> bool {
        false
    }

    /// The upstream's `Retry-After` on a 429 or a 503, read by
    /// [`parse_retry_after`] against the system clock: ignored when
    /// malformed or in the past, capped at
    /// [`MAX_RETRY_AFTER`](crate::retry_after::MAX_RETRY_AFTER).
    fn retry_after(&self, result: &Result<Response<B>, E>) -> Option<Duration> {
        let response = result.as_ref().ok()?;
        let status = response.status();
        if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
            return None;
        }
        let value = response.headers().get(RETRY_AFTER)?;
        parse_retry_after(value, SystemTime::now())
    }
}

/// An error that [`HttpClassifier`] can inspect: it lends itself as a
/// `&dyn Error` so that a seawall rejection in it, or in its sources, can be
/// found.
///
/// A blanket implementation for every `E: Error` is impossible next to the
/// one for `BoxError` (the standard library may one day make boxed errors
/// implement `Error`), so it is implemented for the boxed errors and a few
/// common concrete ones. Implement it for an error type of your own in one
/// line:
///
/// ```
/// use std::error::Error;
/// use seawall_http::AsError;
///
/// #[derive(Debug)]
/// struct MyError;
/// # impl std::fmt::Display for MyError {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("my error") }
/// # }
/// impl Error for MyError {}
///
/// impl AsError for MyError {
///     fn as_error(&self) -> &(dyn Error + 'static) {
///         self
///     }
/// }
/// ```
pub trait AsError {
    /// This error as a trait object.
    fn as_error(&self) -> &(dyn Error + 'static);
}

impl AsError for BoxError {
    fn as_error(&self) -> &(dyn Error + 'static) {
        &**self
    }
}

impl AsError for Box<dyn Error + Send + 'static> {
    fn as_error(&self) -> &(dyn Error + 'static) {
        &**self
    }
}

impl AsError for Box<dyn Error + 'static> {
    fn as_error(&self) -> &(dyn Error + 'static) {
        &**self
    }
}

impl AsError for Infallible {
    fn as_error(&self) -> &(dyn Error + 'static) {
        match *self {}
    }
}

impl AsError for std::io::Error {
    fn as_error(&self) -> &(dyn Error + 'static) {
        self
    }
}

impl AsError for http::Error {
    fn as_error(&self) -> &(dyn Error + 'static) {
        self
    }
}

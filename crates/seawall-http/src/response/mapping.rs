//! The table from an error to a response, and the problem-details body.

use std::error::Error;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};
use seawall_core::names::target;
use seawall_core::rejection::{self, Pattern, QuotaPolicy, Rejection};

use super::{rate_limit, ResponseBody};

const PROBLEM_JSON: HeaderValue = HeaderValue::from_static("application/problem+json");

/// The settings of the mapping; small and `Copy` so that every response
/// future can carry its own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mapping {
    pub(crate) timeout_status: StatusCode,
    pub(crate) max_retry_after_secs: u64,
}

impl Mapping {
    pub(crate) fn error_response<B>(
        &self,
        error: &(dyn Error + 'static),
    ) -> Response<ResponseBody<B>> {
        if let Some(found) = rejection::find(error) {
            return self.rejection_response(found);
        }

        // The inner error is swallowed into a 500 whose body says nothing
        // about it, so this is the one place its text is kept.
        tracing::warn!(
            target: target::HTTP,
            status = 500u16,
            error = %error,
            "inner error answered with a generic response"
        );
        problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server could not complete the request",
            None,
        )
    }

    pub(crate) fn rejection_response<B>(
        &self,
        rejection: &dyn Rejection,
    ) -> Response<ResponseBody<B>> {
        let pattern = rejection.pattern();
        let (status, detail, default_retry_after) = self.entry(pattern);
        let retry_after = rejection
            .retry_after()
            .or(default_retry_after)
            .map(|after| self.retry_after_secs(after));
        // The rate-limit fields reuse the `Retry-After` seconds, so that a
        // client reading either one waits exactly as long.
        let policy = match (pattern, retry_after) {
            (Pattern::Governor, Some(_)) => rate_limit::policy_of(rejection),
            _ => None,
        };

        tracing::trace!(
            target: target::HTTP,
            status = status.as_u16(),
            pattern = pattern.as_str(),
            retry_after,
            policy = policy.map(QuotaPolicy::name),
            "rejection answered"
        );
        let mut response = problem(status, detail, retry_after);
        if let (Some(policy), Some(secs)) = (policy, retry_after) {
            if let Some((policy_field, limit_field)) = rate_limit::fields(policy, secs) {
                let headers = response.headers_mut();
                headers.insert(rate_limit::RATE_LIMIT_POLICY, policy_field);
                headers.insert(rate_limit::RATE_LIMIT, limit_field);
            }
        }
        response
    }

    /// The status, the fixed detail, and the `Retry-After` to send when the
    /// rejection carries none.
    fn entry(&self, pattern: Pattern) -> (StatusCode, &'static str, Option<Duration>) {
        const UNAVAILABLE: StatusCode = StatusCode::SERVICE_UNAVAILABLE;
        // A full bulkhead or a shed request is a moment's congestion: a
        // permit frees as soon as one request finishes, so the smallest
        // hint the header can carry is the honest default.
        const SOON: Option<Duration> = Some(Duration::from_secs(1));
        match pattern {
            Pattern::Timeout => (self.timeout_status, "the request took too long", None),
            Pattern::Bulkhead => (UNAVAILABLE, "the service is at capacity", SOON),
            Pattern::LoadShed => (UNAVAILABLE, "the service is overloaded", SOON),
            Pattern::CircuitBreaker => (UNAVAILABLE, "a dependency is unavailable", None),
            Pattern::Handshake => (UNAVAILABLE, "the service is not accepting requests", None),
            Pattern::Governor => (
                StatusCode::TOO_MANY_REQUESTS,
                "the request rate is too high",
                None,
            ),
            Pattern::Retry => (UNAVAILABLE, "a dependency is failing", None),
            _ => (UNAVAILABLE, "the service cannot take the request", None),
        }
    }

    /// Whole seconds, rounded up, at least one, at most the cap.
    fn retry_after_secs(&self, after: Duration) -> u64 {
        let rounded_up = after
            .as_secs()
            .saturating_add(u64::from(after.subsec_nanos() > 0));
        rounded_up.clamp(1, self.max_retry_after_secs)
    }
}

fn problem<B>(
    status: StatusCode,
    detail: &'static str,
    retry_after: Option<u64>,
) -> Response<ResponseBody<B>> {
    let title = status.canonical_reason().unwrap_or("Server Error");
    let body = format!(
        r#"{{"type":"about:blank","title":"{title}","status":{},"detail":"{detail}"}}"#,
        status.as_u16()
    );

    let mut response = Response::new(ResponseBody::fixed(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, PROBLEM_JSON);
    if let Some(secs) = retry_after {
        headers.insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

//! `ErrorResponseLayer`: the mapping table, the rate-limit fields and the
//! service contract.

mod mapping;
mod rate_limit;
mod service;

use std::error::Error;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use http_body_util::BodyExt;
use seawall_core::rejection::{Pattern, Rejection};
use seawall_core::BoxError;
use seawall_http::ResponseBody;

/// A rejection of any pattern, for the patterns whose layers are not built
/// yet. `rejection::find` does not know it, so it goes through
/// `ErrorResponseLayer::rejection_response`.
#[derive(Debug)]
struct Refusal {
    pattern: Pattern,
    retry_after: Option<Duration>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused by {}", self.pattern)
    }
}

impl Error for Refusal {}

impl Rejection for Refusal {
    fn pattern(&self) -> Pattern {
        self.pattern
    }

    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

/// An error that hides its cause behind `source()`.
#[derive(Debug)]
struct Wrapped(BoxError);

impl fmt::Display for Wrapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("handler failed")
    }
}

impl Error for Wrapped {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.0)
    }
}

async fn body_text<B>(response: Response<ResponseBody<B>>) -> String
where
    B: http_body::Body<Data = Bytes>,
    B::Error: fmt::Debug,
{
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn retry_after<B>(response: &Response<B>) -> Option<&str> {
    response
        .headers()
        .get(http::header::RETRY_AFTER)
        .map(|value| value.to_str().unwrap())
}

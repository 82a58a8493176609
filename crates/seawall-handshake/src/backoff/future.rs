//! The back-off's response future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::SystemTime;

use http::{header, Response, StatusCode};
use pin_project_lite::pin_project;
use seawall_core::future::Refused;
use seawall_core::names::target;
use seawall_core::BoxError;
use seawall_http::retry_after::parse_retry_after;
use tokio::time::Instant;

use super::error::UpstreamBackoff;
use super::table::Table;

pin_project! {
    /// The response future of [`Backoff`](super::Backoff): the inner
    /// service's future, whose `503` or `429` with a `Retry-After` is
    /// remembered for its upstream, or an [`UpstreamBackoff`] refusal.
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Called {
            #[pin]
            future: F,
            recorder: Option<(Arc<Table>, u64)>,
        },
        Refused {
            refusal: Refused<UpstreamBackoff>,
        },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn called(future: F, recorder: Option<(Arc<Table>, u64)>) -> Self {
        ResponseFuture {
            kind: Kind::Called { future, recorder },
        }
    }

    pub(crate) fn refused(refusal: UpstreamBackoff) -> Self {
        ResponseFuture {
            kind: Kind::Refused {
                refusal: Refused::new(refusal),
            },
        }
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Response<ResB>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Called { future, recorder } => {
                let output = ready!(future.poll(cx));
                if let (Ok(response), Some((table, key))) = (&output, recorder.take()) {
                    observe(response, &table, key);
                }
                Poll::Ready(output.map_err(Into::into))
            }
            KindProj::Refused { refusal } => Poll::Ready(Err(refusal.take().into())),
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Called { .. } => "called",
            Kind::Refused { .. } => "refused",
        };
        f.debug_struct("ResponseFuture")
            .field("kind", &kind)
            .finish()
    }
}

/// Remembers a `503` or `429` that asked for time.
fn observe<B>(response: &Response<B>, table: &Table, key: u64) {
    let status = response.status();
    let asks_for_time =
        status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS;
    if !asks_for_time {
        return;
    }
    let Some(value) = response.headers().get(header::RETRY_AFTER) else {
        return;
    };
    // An HTTP date can only be read against the wall clock.
    let Some(retry_after) = parse_retry_after(value, SystemTime::now()) else {
        return;
    };
    if retry_after.is_zero() {
        return;
    }

    let now = Instant::now();
    if table.record(key, now + retry_after, now) {
        tracing::debug!(
            target: target::HANDSHAKE,
            status = status.as_u16(),
            ?retry_after,
            "upstream asked to back off"
        );
    }
}

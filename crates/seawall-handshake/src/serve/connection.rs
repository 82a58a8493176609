//! One connection: hyper's HTTP/1 server, watched for the header-read and
//! idle timeouts, and closed gracefully on shutdown.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll};

use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use pin_project_lite::pin_project;
use seawall_core::names::target;
use seawall_core::BoxError;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tower_service::Service;

use super::Config;

/// How a connection ended, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The client closed it, or the server did after a response (or after
    /// a graceful shutdown), or hyper gave up on it with an error.
    Closed,
    /// Cut: a request's headers took longer than the header-read timeout.
    HeaderTimeout,
    /// Closed: no request came within the idle timeout.
    IdleTimeout,
}

/// Serves one connection until it ends; see [`Server`](super::Server).
///
/// `shutdown` turns to `true` when the server shuts down: the connection
/// then finishes the request in progress, if any, and closes.
pub(crate) async fn serve<I, S, B>(
    io: I,
    service: S,
    config: &Config,
    mut shutdown: Option<watch::Receiver<bool>>,
) -> Ended
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let watch = Arc::new(Watch::new(Instant::now()));
    let io = TokioIo::new(Watched {
        inner: io,
        watch: watch.clone(),
    });
    let service = Tracked {
        inner: service,
        watch: watch.clone(),
    };

    // hyper's own header timer starts whenever it waits for a request head,
    // including the idle wait on a kept-alive connection, so it cannot tell
    // the two apart. It is set to both bounds together, a backstop behind
    // the finer watch below.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.idle_timeout + config.header_read_timeout);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);

    let mut closing = false;
    let mut ended = Ended::Closed;
    loop {
        // First, work out what the connection waits for now.
        let next = if closing {
            None
        } else {
            watch.next_deadline(config)
        };
        let deadline = next.map(|(at, _)| at);
        let shutting_down = shutdown_signal(shutdown.as_mut().filter(|_| !closing));

        // Then, wait for the connection, a change, a timer or a shutdown.
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    if error.is_timeout() {
                        ended = Ended::HeaderTimeout;
                    }
                    tracing::trace!(target: target::HANDSHAKE, %error, "connection error");
                }
                return ended;
            }
            () = watch.changed.notified() => {}
            () = sleep_until(deadline) => match next.map(|(_, kind)| kind) {
                Some(Ended::HeaderTimeout) => {
                    tracing::trace!(
                        target: target::HANDSHAKE,
                        limit = ?config.header_read_timeout,
                        "connection cut: request headers too slow"
                    );
                    // Dropping the connection closes the socket; a slow
                    // client gets no answer, since it may never read one.
                    return Ended::HeaderTimeout;
                }
                _ => {
                    tracing::trace!(
                        target: target::HANDSHAKE,
                        limit = ?config.idle_timeout,
                        "connection closed: idle"
                    );
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                    ended = Ended::IdleTimeout;
                }
            },
            () = shutting_down => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

async fn shutdown_signal(receiver: Option<&mut watch::Receiver<bool>>) {
    match receiver {
        // A server gone without a word counts as a shutdown too.
        Some(receiver) => drop(receiver.wait_for(|stop| *stop).await),
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// What the connection is doing, as its socket and its service see it.
///
/// Only the connection's own task touches it (hyper polls the reads, the
/// service and the bodies inside the connection future), so the lock is
/// never contended; it is there because the task must be `Send`.
struct Watch {
    state: Mutex<State>,
    changed: Notify,
}

struct State {
    /// Requests whose headers are in and whose response body has not been
    /// sent in full.
    active: usize,
    /// When the connection last had no request in progress.
    idle_since: Instant,
    /// When the first byte of the next request's head arrived.
    head_since: Option<Instant>,
}

impl Watch {
    fn new(now: Instant) -> Self {
        Watch {
            state: Mutex::new(State {
                active: 0,
                idle_since: now,
                head_since: None,
            }),
            changed: Notify::new(),
        }
    }

    /// The next deadline and what happens there: a head started is cut
    /// at the header-read timeout, an idle connection is closed at the
    /// idle timeout, a busy one waits for its request.
    fn next_deadline(&self, config: &Config) -> Option<(Instant, Ended)> {
        let state = self.lock();
        if state.active > 0 {
            return None;
        }
        match state.head_since {
            Some(since) => Some((since + config.header_read_timeout, Ended::HeaderTimeout)),
            None => Some((state.idle_since + config.idle_timeout, Ended::IdleTimeout)),
        }
    }

    fn on_read(&self) {
        let mut state = self.lock();
        let head_starts = state.active == 0 && state.head_since.is_none();
        if head_starts {
            state.head_since = Some(Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    fn begin(self: &Arc<Self>) -> Active {
        let mut state = self.lock();
        state.active += 1;
        state.head_since = None;
        drop(state);
        self.changed.notify_one();
        Active {
            watch: self.clone(),
        }
    }

    fn end(&self) {
        let mut state = self.lock();
        state.active -= 1;
        if state.active == 0 {
            state.idle_since = Instant::now();
            state.head_since = None;
        }
        drop(state);
        self.changed.notify_one();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a few plain fields, each update complete before
        // the lock is released, so a poisoned lock still holds good data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One request in progress, from its headers to the end of its response
/// body.
struct Active {
    watch: Arc<Watch>,
}

impl Drop for Active {
    fn drop(&mut self) {
        self.watch.end();
    }
}

pin_project! {
    /// The socket, noting when the first byte of a request head arrives.
    struct Watched<I> {
        #[pin]
        inner: I,
        watch: Arc<Watch>,
    }
}

impl<I: AsyncRead> AsyncRead for Watched<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        ready!(this.inner.poll_read(cx, buf))?;
        if buf.filled().len() > before {
            this.watch.on_read();
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncWrite> AsyncWrite for Watched<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

/// The user's tower service as a hyper service, counting each request
/// active until its response body ends.
struct Tracked<S> {
    inner: S,
    watch: Arc<Watch>,
}

impl<S, B> hyper::service::Service<Request<Incoming>> for Tracked<S>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
{
    type Response = Response<TrackedBody<B>>;
    type Error = BoxError;
    type Future = TrackedFuture<S, Request<Incoming>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        // The headers are in: the request is active from here.
        let active = self.watch.begin();
        TrackedFuture {
            step: Step::Ready {
                service: self.inner.clone(),
                request: Some(request),
            },
            active: Some(active),
        }
    }
}

pin_project! {
    /// Waits for the service's readiness, calls it, and hands the active
    /// mark on to the response body.
    struct TrackedFuture<S, R>
    where
        S: Service<R>,
    {
        #[pin]
        step: Step<S, R>,
        active: Option<Active>,
    }
}

pin_project! {
    #[project = StepProj]
    enum Step<S, R>
    where
        S: Service<R>,
    {
        Ready {
            service: S,
            request: Option<R>,
        },
        Called {
            #[pin]
            future: S::Future,
        },
    }
}

impl<S, R, B> Future for TrackedFuture<S, R>
where
    S: Service<R, Response = Response<B>>,
    S::Error: Into<BoxError>,
{
    type Output = Result<Response<TrackedBody<B>>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let next = match this.step.as_mut().project() {
                StepProj::Ready { service, request } => {
                    ready!(service.poll_ready(cx)).map_err(Into::into)?;
                    let request = request
                        .take()
                        .expect("TrackedFuture polled after completion");
                    service.call(request)
                }
                StepProj::Called { future } => {
                    let response = ready!(future.poll(cx)).map_err(Into::into)?;
                    let active = this.active.take();
                    return Poll::Ready(Ok(response.map(|body| TrackedBody { body, active })));
                }
            };
            this.step.set(Step::Called { future: next });
        }
    }
}

pin_project! {
    /// A response body that keeps its request active until it ends or is
    /// dropped.
    struct TrackedBody<B> {
        #[pin]
        body: B,
        active: Option<Active>,
    }
}

impl<B: Body> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.body.poll_frame(cx));
        if frame.is_none() {
            this.active.take();
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl<B> fmt::Debug for TrackedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackedBody")
            .field("active", &self.active.is_some())
            .finish()
    }
}

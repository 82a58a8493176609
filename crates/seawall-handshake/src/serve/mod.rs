//! A hardened HTTP/1 server on hyper: timeouts for slow and idle clients,
//! a cap on open connections, and graceful shutdown after a [`Drain`].
//!
//! `axum::serve` sets no timeout for reading a request's headers, so a
//! client that sends half its headers and stalls (slowloris) holds a
//! connection, a socket and a task forever; a few thousand such clients
//! exhaust the process's file descriptors. [`Server`] closes them:
//!
//! - **header-read timeout**: from the first byte of a request's head to
//!   its last, at most [`header_read_timeout`](ServerBuilder::header_read_timeout)
//!   (10 s by default); a slower client's socket is closed without an
//!   answer.
//! - **idle timeout**: a connection with no request in progress (just
//!   accepted, or kept alive after a response) is closed when no byte of a
//!   new request arrives within [`idle_timeout`](ServerBuilder::idle_timeout)
//!   (75 s by default, longer than the 60 s idle timeout common in load
//!   balancers, so the balancer closes first and never sends a request on a
//!   connection the server is closing).
//! - **a cap on open connections**: beyond
//!   [`max_connections`](ServerBuilder::max_connections) (1,024 by
//!   default), a new connection is accepted and closed at once, after a
//!   best-effort `503` with `Retry-After: 1`. It does not wait: a waiting
//!   connection would look like a hung server to its client. The kernel's
//!   listen backlog is the only queue, and it is bounded.
//! - **graceful shutdown**: when the `shutdown` future given to
//!   [`Server::serve`] completes, the server stops accepting (the listener
//!   is closed), closes idle keep-alive connections, lets each request in
//!   progress finish and then closes its connection, and after
//!   [`shutdown_timeout`](ServerBuilder::shutdown_timeout) (10 s by default)
//!   cuts whatever is left.
//!
//! # Example
//!
//! On SIGTERM (here a oneshot channel stands in for the signal), drain
//! first: readiness fails, the load balancer notices, in-flight requests
//! finish; then the server shuts down.
//!
//! ```
//! use std::time::Duration;
//! use axum::{routing::get, Router};
//! use seawall_handshake::serve::Server;
//! use seawall_handshake::{Drain, ReadinessGateLayer};
//! use seawall_http::ErrorResponseLayer;
//! use tokio::net::TcpListener;
//! use tower::ServiceBuilder;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), seawall_core::BoxError> {
//! let drain = Drain::builder().notice_delay(Duration::ZERO).build()?;
//! let app = Router::new().route("/", get(|| async { "hello" })).layer(
//!     ServiceBuilder::new()
//!         .layer(ErrorResponseLayer::new())
//!         .layer(ReadinessGateLayer::new(&drain)),
//! );
//! let server = Server::builder()
//!     .header_read_timeout(Duration::from_secs(5))
//!     .max_connections(512)
//!     .build()?;
//!
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let (stop, signal) = tokio::sync::oneshot::channel::<()>();
//! let shutdown = {
//!     let drain = drain.clone();
//!     async move {
//!         let _ = signal.await;
//!         drain.drain().await;
//!     }
//! };
//! let serving = tokio::spawn(async move { server.serve(listener, app, shutdown).await });
//!
//! stop.send(()).unwrap();
//! let stopped = serving.await?;
//! assert_eq!(stopped.forced(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! # Metrics and logging
//!
//! Under the label `name` ([`ServerBuilder::name`]):
//! `seawall_handshake_connections_open` (gauge),
//! `seawall_handshake_connections_refused_total` (over the cap) and
//! `seawall_handshake_connections_timed_out_total` with `phase` `header`,
//! `idle` or `shutdown` (cut at the shutdown bound). Under the target
//! `seawall::handshake`: start and end of serving and of shutdown at
//! `debug!`, each refused or timed-out connection at `trace!`, accept
//! errors (the server waits 100 ms and goes on) at `warn!`.
//!
//! # Limitations
//!
//! - HTTP/1 only: no HTTP/2, no TLS (wrap the listener yourself and use
//!   [`Server::serve_connection`], which applies the timeouts but not the
//!   cap), and no protocol upgrades (WebSocket).
//! - The time to read a request body is not bounded here; put a timeout
//!   layer on the handlers.
//! - A request head that arrives pipelined behind another request, and
//!   only partly, is bounded by the idle timeout, not the header-read
//!   timeout (its first bytes came while the earlier request was active).
//! - hyper's own header timer is set to the idle and header-read timeouts
//!   together, as a backstop: hyper starts it whenever it waits for a
//!   request head, idle wait included, so on its own it could not keep an
//!   idle timeout longer than the header-read timeout.
//! - The refusal over the cap is best effort: if the client had already
//!   sent its request, closing the socket with unread data may reset the
//!   connection before the client reads the `503`.
//! - An error from the service closes the connection; turn errors into
//!   responses first (seawall-http's `ErrorResponseLayer`, or axum).
//!
//! [`Drain`]: crate::Drain

mod config;
mod connection;

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use seawall_core::names::target;
use seawall_core::BoxError;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tower_service::Service;

use config::Config;
pub use config::ServerBuilder;
use connection::Ended;

/// A hardened HTTP/1 server for any tower service of `http::Request`s (an
/// axum `Router`, for one); built by [`Server::builder`]. See the
/// [module docs](self).
#[derive(Clone)]
pub struct Server {
    config: Arc<Config>,
}

/// How [`Server::serve`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stopped {
    forced: usize,
}

const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
retry-after: 1\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

impl Server {
    /// A builder with the defaults: a 10 s header-read timeout, a 75 s idle
    /// timeout, at most 1,024 connections, a 10 s shutdown bound.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// Serves `service` on every connection `listener` accepts, until
    /// `shutdown` completes and the connections are closed (gracefully, or
    /// cut at the shutdown bound).
    ///
    /// Errors from `accept` (a full file-descriptor table, say) are logged
    /// and waited out, never returned: the server keeps going.
    pub async fn serve<S, B, F>(&self, listener: TcpListener, service: S, shutdown: F) -> Stopped
    where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
        F: Future<Output = ()>,
    {
        let config = &self.config;
        let permits = Arc::new(Semaphore::new(config.max_connections));
        let (stop, stopping) = watch::channel(false);
        let mut connections = JoinSet::new();
        tracing::debug!(
            target: target::HANDSHAKE,
            name = %config.name,
            addr = ?listener.local_addr().ok(),
            "serving"
        );

        // First, accept until the shutdown signal.
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                accepted = listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    pause_after(error).await;
                    continue;
                }
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                refuse(stream, config);
                continue;
            };
            // Small responses should not wait for Nagle's algorithm.
            if let Err(error) = stream.set_nodelay(true) {
                tracing::trace!(target: target::HANDSHAKE, %error, "set_nodelay failed");
            }
            let service = service.clone();
            let config = self.config.clone();
            let stopping = stopping.clone();
            connections.spawn(async move {
                let open = OpenConnection::new(&config);
                let ended = connection::serve(stream, service, &config, Some(stopping)).await;
                open.record(ended);
                drop(permit);
            });
        }

        // Then, stop accepting, ask every connection to close, and wait
        // for them with a bound.
        drop(listener);
        let open = connections.len();
        tracing::debug!(
            target: target::HANDSHAKE,
            name = %config.name,
            open,
            "shutdown started"
        );
        let _ = stop.send(true);
        let all_closed = async { while connections.join_next().await.is_some() {} };
        let forced = match tokio::time::timeout(config.shutdown_timeout, all_closed).await {
            Ok(()) => 0,
            Err(_) => {
                let forced = connections.len();
                connections.shutdown().await;
                config.metrics.shutdown_timeouts.increment(forced as u64);
                forced
            }
        };
        tracing::debug!(
            target: target::HANDSHAKE,
            name = %config.name,
            forced,
            "shutdown finished"
        );
        Stopped { forced }
    }

    /// Serves one connection (a TLS stream, say) with the header-read and
    /// idle timeouts, until it closes. The cap on connections and the
    /// shutdown are the caller's: drop the future to cut the connection.
    pub async fn serve_connection<I, S, B>(&self, io: I, service: S)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let open = OpenConnection::new(&self.config);
        let ended = connection::serve(io, service, &self.config, None).await;
        open.record(ended);
    }

    /// The header-read timeout.
    pub fn header_read_timeout(&self) -> Duration {
        self.config.header_read_timeout
    }

    /// The idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        self.config.idle_timeout
    }

    /// The most connections open at once.
    pub fn max_connections(&self) -> usize {
        self.config.max_connections
    }

    /// The bound on the wait for connections to close at shutdown.
    pub fn shutdown_timeout(&self) -> Duration {
        self.config.shutdown_timeout
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.config.name)
            .field("header_read_timeout", &self.config.header_read_timeout)
            .field("idle_timeout", &self.config.idle_timeout)
            .field("max_connections", &self.config.max_connections)
            .field("shutdown_timeout", &self.config.shutdown_timeout)
            .finish()
    }
}

impl Stopped {
    /// How many connections were still open at the shutdown bound and were
    /// cut.
    pub fn forced(&self) -> usize {
        self.forced
    }
}

/// Counts a connection open for as long as it lives, even if its task is
/// cut at the shutdown bound.
struct OpenConnection<'a> {
    config: &'a Config,
}

impl<'a> OpenConnection<'a> {
    fn new(config: &'a Config) -> Self {
        config.metrics.open.increment(1.0);
        OpenConnection { config }
    }

    fn record(self, ended: Ended) {
        let metrics = &self.config.metrics;
        match ended {
            Ended::Closed => {}
            Ended::HeaderTimeout => metrics.header_timeouts.increment(1),
            Ended::IdleTimeout => metrics.idle_timeouts.increment(1),
        }
    }
}

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.config.metrics.open.decrement(1.0);
    }
}

/// Closes a connection over the cap, after a best-effort `503` that never
/// waits on the client.
fn refuse(stream: TcpStream, config: &Config) {
    config.metrics.refused.increment(1);
    tracing::trace!(
        target: target::HANDSHAKE,
        name = %config.name,
        max_connections = config.max_connections,
        "connection refused: too many open"
    );
    let _ = stream.try_write(REFUSAL);
}

/// Waits out an accept error that may last (out of file descriptors),
/// so the loop does not spin; a connection the client gave up on is
/// skipped at once.
async fn pause_after(error: io::Error) {
    let passing = matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    );
    if passing {
        tracing::trace!(target: target::HANDSHAKE, %error, "accept failed");
        return;
    }
    tracing::warn!(target: target::HANDSHAKE, %error, "accept failed, pausing");
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}

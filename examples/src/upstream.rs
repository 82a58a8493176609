//! A small upstream on loopback that fails on demand, for the client
//! examples to call.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{routing::get, Router};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How the upstream answers `GET /`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// `200 OK`.
    Healthy,
    /// `500 Internal Server Error`: broken.
    Failing,
    /// `503 Service Unavailable` with `Retry-After` of this many seconds:
    /// overloaded, and saying when to come back.
    Busy {
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
    },
}

/// The upstream server, running on the runtime that started it until it is
/// dropped.
pub struct Upstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

struct Shared {
    behaviour: Mutex<Behaviour>,
    requests: AtomicUsize,
}

impl Upstream {
    /// Starts a healthy upstream on a free loopback port.
    pub async fn start() -> std::io::Result<Upstream> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            behaviour: Mutex::new(Behaviour::Healthy),
            requests: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/", get(answer))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            // Serving on a bound listener ends only with the task.
            let _ = axum::serve(listener, router).await;
        });
        Ok(Upstream {
            addr,
            shared,
            server,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `GET /`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Changes how it answers from the next request on.
    pub fn set(&self, behaviour: Behaviour) {
        *self
            .shared
            .behaviour
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = behaviour;
    }

    /// How many requests reached it.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("addr", &self.addr)
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

async fn answer(State(shared): State<Arc<Shared>>) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let behaviour = *shared
        .behaviour
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    match behaviour {
        Behaviour::Healthy => (StatusCode::OK, "ok").into_response(),
        Behaviour::Failing => (StatusCode::INTERNAL_SERVER_ERROR, "broken").into_response(),
        Behaviour::Busy { retry_after_secs } => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, retry_after_secs.to_string())],
            "busy",
        )
            .into_response(),
    }
}

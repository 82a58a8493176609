//! The server under test: an axum router on 127.0.0.1, on a runtime with one
//! worker thread, whose handler calls a dependency of fixed capacity.
//!
//! The dependency serves `permits` calls at once and takes `service_time`
//! per call, so the handler's capacity is `permits / service_time` requests
//! per second. Calls beyond that wait in the dependency's FIFO queue, which
//! is the queue that overload fills.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::serve::ListenerExt;
use std::future::IntoFuture;

use axum::{BoxError, Router};
use tokio::sync::{oneshot, Semaphore};
use tower::ServiceBuilder;

use crate::affinity;

/// What stands in front of the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Nothing: bare axum.
    Bare,
    /// tower's `LoadShed` over `GlobalConcurrencyLimit`, the limit set by
    /// hand to the dependency's capacity, refusals answered `503`.
    Tower,
    /// seawall's shed layer with its defaults (no limit configured), and
    /// seawall's `ErrorResponseLayer` turning `Overloaded` into `503`.
    Seawall,
}

impl Mode {
    /// Every mode, in the order a round runs them.
    pub(crate) const ALL: [Mode; 3] = [Mode::Bare, Mode::Tower, Mode::Seawall];

    /// The mode's name in the report and in `OVERLOAD_MODES`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Bare => "bare",
            Mode::Tower => "tower",
            Mode::Seawall => "seawall",
        }
    }

    /// The longer description printed above the mode's table.
    pub(crate) fn describe(self, permits: usize) -> String {
        match self {
            Mode::Bare => "bare axum, no middleware".to_owned(),
            Mode::Tower => format!(
                "tower LoadShed + GlobalConcurrencyLimit({permits}), refusals -> 503 by HandleErrorLayer"
            ),
            Mode::Seawall => {
                "seawall ShedLayer::builder().build() (no limit set), ErrorResponseLayer -> 503"
                    .to_owned()
            }
        }
    }

    /// Reads a mode's name.
    pub(crate) fn parse(name: &str) -> Result<Mode, String> {
        Mode::ALL
            .into_iter()
            .find(|mode| mode.name() == name)
            .ok_or_else(|| format!("unknown mode {name:?}; the modes are bare, tower, seawall"))
    }
}

/// The handler's dependency: a fixed number of calls at once, each taking
/// a fixed time.
#[derive(Debug)]
struct Dependency {
    permits: Semaphore,
    service_time: Duration,
}

async fn handler(State(dependency): State<Arc<Dependency>>) -> StatusCode {
    match dependency.permits.acquire().await {
        Ok(_permit) => {
            tokio::time::sleep(dependency.service_time).await;
            StatusCode::OK
        }
        // The semaphore is never closed.
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn tower_refusal(_error: BoxError) -> StatusCode {
    StatusCode::SERVICE_UNAVAILABLE
}

/// Where a mode's concurrency limit can be read.
#[derive(Debug)]
enum Limit {
    None,
    Fixed(usize),
    Learned(seawall_shed::ShedHandle),
}

fn router(mode: Mode, permits: usize, service_time: Duration) -> Result<(Router, Limit), String> {
    let dependency = Arc::new(Dependency {
        permits: Semaphore::new(permits),
        service_time,
    });
    let routes = Router::new()
        .route("/", get(handler))
        .with_state(dependency);
    match mode {
        Mode::Bare => Ok((routes, Limit::None)),
        Mode::Tower => Ok((
            routes.layer(
                ServiceBuilder::new()
                    .layer(HandleErrorLayer::new(tower_refusal))
                    .layer(tower::load_shed::LoadShedLayer::new())
                    .layer(tower::limit::GlobalConcurrencyLimitLayer::new(permits)),
            ),
            Limit::Fixed(permits),
        )),
        Mode::Seawall => seawall_stack(routes),
    }
}

fn seawall_stack(routes: Router) -> Result<(Router, Limit), String> {
    let shed = seawall_shed::ShedLayer::builder()
        .name("overload")
        .build()
        .map_err(|e| format!("seawall shed layer: {e}"))?;
    let handle = shed.handle();
    Ok((
        routes.layer(
            ServiceBuilder::new()
                .layer(seawall_http::ErrorResponseLayer::new())
                .layer(shed),
        ),
        Limit::Learned(handle),
    ))
}

/// A server running on a thread of its own.
#[derive(Debug)]
pub(crate) struct Server {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// The `/proc` directory of its one worker thread.
    thread_proc: Option<PathBuf>,
    limit: Limit,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts a fresh server for `mode`: new router, new dependency, new
    /// layer state, on a new current-thread runtime.
    pub(crate) fn start(
        mode: Mode,
        permits: usize,
        service_time: Duration,
    ) -> Result<Self, String> {
        let (router, limit) = router(mode, permits, service_time)?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("server-{}", mode.name()))
            .spawn(move || serve(router, ready_tx, stop_rx))
            .map_err(|e| format!("could not start the server thread: {e}"))?;
        let (addr, thread_proc) = ready_rx
            .recv()
            .map_err(|_| "the server thread ended before listening".to_owned())??;
        Ok(Self {
            addr,
            thread_proc,
            limit,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// CPU time the server's worker thread has used so far.
    pub(crate) fn cpu_time(&self) -> Option<Duration> {
        self.thread_proc.as_deref().and_then(affinity::cpu_time)
    }

    /// The concurrency limit in force now, if the mode has one.
    pub(crate) fn limit(&self) -> Option<usize> {
        match &self.limit {
            Limit::None => None,
            Limit::Fixed(n) => Some(*n),
            Limit::Learned(handle) => Some(handle.limit()),
        }
    }

    /// Slots in use now, if the mode's limit is learned.
    pub(crate) fn in_flight(&self) -> Option<usize> {
        match &self.limit {
            Limit::Learned(handle) => Some(handle.in_flight()),
            _ => None,
        }
    }

    /// Stops the server at once: the runtime is dropped with every
    /// connection and every request still waiting in it.
    pub(crate) fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Ready = Result<(SocketAddr, Option<PathBuf>), String>;

fn serve(router: Router, ready: std::sync::mpsc::Sender<Ready>, stop: oneshot::Receiver<()>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(format!("server runtime: {e}")));
            return;
        }
    };
    let listener = match runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")) {
        Ok(listener) => listener,
        Err(e) => {
            let _ = ready.send(Err(format!("bind 127.0.0.1:0: {e}")));
            return;
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            let _ = ready.send(Err(format!("local address: {e}")));
            return;
        }
    };
    let _ = ready.send(Ok((addr, affinity::this_thread())));
    // Small answers on loopback: without NODELAY, Nagle and delayed ACKs
    // add tens of milliseconds.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    runtime.block_on(async move {
        tokio::select! {
            result = axum::serve(listener, router).into_future() => {
                if let Err(e) = result {
                    eprintln!("overload: server stopped: {e}");
                }
            }
            _ = stop => {}
        }
    });
    // Dropping the runtime cancels every connection task and every request
    // still queued, so the next mode starts from nothing.
    drop(runtime);
}

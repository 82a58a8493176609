//! Runs the example server until SIGTERM or Ctrl-C, then drains it and
//! shuts down gracefully.
//!
//! It listens on `127.0.0.1:3000` (`SEAWALL_ADDR`) through seawall's
//! hardened server, with its admin routes on `127.0.0.1:3001`
//! (`SEAWALL_ADMIN_ADDR`, loopback only); see
//! `seawall_examples::instance::Settings` for the other variables.
//! Try `curl -i localhost:3000/work` a few times at once,
//! `curl -i localhost:3000/health/ready`, and
//! `curl -X POST localhost:3001/admin/drain`.
//!
//! On SIGTERM: readiness fails at once, requests are still served for the
//! notice delay (so the load balancer can notice), then the gate answers
//! `503` and the drain waits for requests in flight; then the server stops
//! accepting, closes idle connections and exits.

use seawall::serve::Server;
use seawall::BoxError;
use seawall_examples::instance::{instance, Settings};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,seawall=debug")),
        )
        .init();

    let settings = Settings::from_env()?;
    let instance = instance(&settings)?;
    // Listen for the signal before serving, so an early SIGTERM is not
    // missed (or fatal, as it is by default).
    let terminated = terminated()?;
    let listener = TcpListener::bind(settings.addr).await?;
    let admin_listener = TcpListener::bind(settings.admin_addr).await?;
    tracing::info!(
        addr = %listener.local_addr()?,
        admin = %admin_listener.local_addr()?,
        instance = %settings.instance,
        "listening"
    );

    let server = Server::builder().name("example").build()?;
    let admin_server = Server::builder().name("admin").build()?;
    let (stopped, stopping) = watch::channel(false);
    let drain = instance.drain.clone();
    let shutdown = async move {
        terminated.await;
        tracing::info!("signal received, draining");
        let outcome = drain.drain().await;
        tracing::info!(?outcome, "drained, shutting down");
        let _ = stopped.send(true);
    };
    let admin_shutdown = async move {
        let mut stopping = stopping;
        let _ = stopping.wait_for(|stop| *stop).await;
    };

    let (served, _) = tokio::join!(
        server.serve(listener, instance.router, shutdown),
        admin_server.serve(admin_listener, instance.admin, admin_shutdown),
    );
    tracing::info!(forced = served.forced(), "stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
fn terminated() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    Ok(async move {
        #[cfg(unix)]
        let term = term.recv();
        #[cfg(not(unix))]
        let term = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = term => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    })
}

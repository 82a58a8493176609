//! Runs the example server until Ctrl-C.
//!
//! It listens on `127.0.0.1:3000`, or on the address in `SEAWALL_ADDR`.
//! Try `curl -i localhost:3000/work` a few times at once, and
//! `curl -i localhost:3000/stuck`.

use std::net::SocketAddr;

use seawall::BoxError;
use seawall_examples::app::app;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("seawall=trace")),
        )
        .init();

    let addr: SocketAddr = match std::env::var("SEAWALL_ADDR") {
        Ok(addr) => addr.parse()?,
        Err(_) => SocketAddr::from(([127, 0, 0, 1], 3000)),
    };
    let app = app()?;
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(%addr, "listening");
    axum::serve(listener, app.router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

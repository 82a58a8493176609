//! The demo: a burst against the example server, and what came back.

use std::net::SocketAddr;

use seawall::BoxError;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::app::{app, App};
use crate::client::{get, Answer};

/// What the demo saw.
#[derive(Debug)]
pub struct Report {
    /// The answers to the burst on `/work`, in the order they finished.
    pub burst: Vec<Answer>,
    /// The answer from `/stuck`.
    pub stuck: Answer,
    /// Permits still held after everything finished.
    pub in_flight_after: usize,
}

/// Starts the example server on a free loopback port, sends `burst`
/// concurrent requests to `/work` on separate connections and one to
/// `/stuck`, and stops the server.
pub async fn run(burst: usize) -> Result<Report, BoxError> {
    let App {
        router, bulkhead, ..
    } = app()?;
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let mut requests = JoinSet::new();
    for _ in 0..burst {
        requests.spawn(get(addr, "/work"));
    }
    let mut answers = Vec::with_capacity(burst);
    while let Some(answer) = requests.join_next().await {
        answers.push(answer??);
    }
    let stuck = get(addr, "/stuck").await?;

    server.abort();
    Ok(Report {
        burst: answers,
        stuck,
        in_flight_after: bulkhead.in_flight(),
    })
}

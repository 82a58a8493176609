//! The server's settings: the builder, its checks, and what a built server
//! keeps.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, Gauge};
use seawall_core::names::label;

use super::Server;
use crate::error::{check_duration, ConfigError};

/// Builds a [`Server`]; see [`Server::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ServerBuilder {
    name: Cow<'static, str>,
    header_read_timeout: Duration,
    idle_timeout: Duration,
    max_connections: usize,
    shutdown_timeout: Duration,
}

pub(crate) struct Config {
    pub(crate) name: Cow<'static, str>,
    pub(crate) header_read_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) metrics: Metrics,
}

pub(crate) struct Metrics {
    pub(crate) open: Gauge,
    pub(crate) refused: Counter,
    pub(crate) header_timeouts: Counter,
    pub(crate) idle_timeouts: Counter,
    pub(crate) shutdown_timeouts: Counter,
}

const MAX_CONNECTIONS: usize = 1_000_000;
impl ServerBuilder {
    /// The name the metrics and events carry (label `name`), `default`
    /// unless set.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// The longest time from the first byte of a request's head to its
    /// last: more than zero, at most one hour, 10 s by default.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// The longest time a connection waits, with no request in progress,
    /// for the first byte of the next one (or of the first one, once
    /// accepted): more than zero, at most one hour, 75 s by default.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The most connections open at once: at least 1, at most 1,000,000,
    /// 1,024 by default. Keep it under the process's file-descriptor limit
    /// (`ulimit -n`) minus what the application opens itself.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// The longest wait, once shutdown starts, for the open connections to
    /// finish their requests and close: more than zero, at most one hour,
    /// 10 s by default.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Validates the settings and builds the server, registering its
    /// metrics.
    pub fn build(self) -> Result<Server, ConfigError> {
        check_duration("header_read_timeout", self.header_read_timeout)?;
        check_duration("idle_timeout", self.idle_timeout)?;
        check_duration("shutdown_timeout", self.shutdown_timeout)?;
        if !(1..=MAX_CONNECTIONS).contains(&self.max_connections) {
            return Err(ConfigError::new(
                "max_connections",
                format!(
                    "max_connections must be at least 1 and at most {MAX_CONNECTIONS}, got {}",
                    self.max_connections
                ),
            ));
        }

        let name = self.name;
        let timed_out = |phase: &'static str| {
            metrics::counter!(
                "seawall_handshake_connections_timed_out_total",
                label::NAME => name.clone(),
                label::PHASE => phase
            )
        };
        let metrics = Metrics {
            open: metrics::gauge!(
                "seawall_handshake_connections_open",
                label::NAME => name.clone()
            ),
            refused: metrics::counter!(
                "seawall_handshake_connections_refused_total",
                label::NAME => name.clone()
            ),
            header_timeouts: timed_out("header"),
            idle_timeouts: timed_out("idle"),
            shutdown_timeouts: timed_out("shutdown"),
        };
        metrics.open.set(0.0);
        Ok(Server {
            config: Arc::new(Config {
                name,
                header_read_timeout: self.header_read_timeout,
                idle_timeout: self.idle_timeout,
                max_connections: self.max_connections,
                shutdown_timeout: self.shutdown_timeout,
                metrics,
            }),
        })
    }
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder {
            name: Cow::Borrowed("default"),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(75),
            max_connections: 1024,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

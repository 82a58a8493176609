//! The names seawall logs and measures under.
//!
//! # Tracing targets
//!
//! Every crate logs under one target, `seawall::<pattern>`, so a filter such
//! as `RUST_LOG=seawall::breaker=debug` picks one pattern. Per-request
//! decisions are `trace!`, state changes are `debug!`.
//!
//! # Metrics
//!
//! Metrics go through the `metrics` facade; seawall never installs a recorder.
//! Names follow `seawall_<pattern>_<measure>`, counters end in `_total`, and
//! durations are histograms in seconds ending in `_seconds`. Every series
//! carries the label `name`, the layer's configured name, so two bulkheads in
//! one process stay apart.
//!
//! Layers register their metric handles when the layer is built, so the
//! request path only bumps an atomic: install the recorder before building
//! layers, or their series are not recorded.

/// Tracing targets, one per crate.
pub mod target {
    /// `seawall-timeout`.
    pub const TIMEOUT: &str = "seawall::timeout";
    /// `seawall-bulkhead`.
    pub const BULKHEAD: &str = "seawall::bulkhead";
    /// `seawall-breaker`.
    pub const BREAKER: &str = "seawall::breaker";
    /// `seawall-shed`.
    pub const SHED: &str = "seawall::shed";
    /// `seawall-governor`.
    pub const GOVERNOR: &str = "seawall::governor";
    /// `seawall-handshake`.
    pub const HANDSHAKE: &str = "seawall::handshake";
    /// `seawall-retry`.
    pub const RETRY: &str = "seawall::retry";
    /// `seawall-http`.
    pub const HTTP: &str = "seawall::http";
}

/// Metric label keys shared by every crate.
pub mod label {
    /// The layer's configured name.
    pub const NAME: &str = "name";
    /// An [`Outcome`](crate::Outcome) name.
    pub const OUTCOME: &str = "outcome";
    /// A bulkhead partition.
    pub const PARTITION: &str = "partition";
    /// Which wait a timeout cut short (`ready`, `response`).
    pub const PHASE: &str = "phase";
}

//! The programs that show seawall at work, and the pieces they share.
//!
//! - `demo` (the README's first command) starts the example server on a
//!   free loopback port, sends it a burst of traffic and prints what each
//!   layer did.
//! - `server` runs the same server as a deployable [`instance`] (readiness
//!   gate, health probes, admin drain) through seawall's hardened server,
//!   until SIGTERM or Ctrl-C drains it and shuts it down; the tests run
//!   two of them behind HAProxy.
//! - `reqwest_client` wraps a `reqwest::Client` in a circuit breaker and
//!   calls a loopback upstream that breaks, recovers and asks for room.

pub mod app;
pub mod client;
pub mod demo;
pub mod instance;
pub mod reqwest_demo;
pub mod upstream;

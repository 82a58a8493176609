//! The programs that show seawall at work, and the pieces they share.
//!
//! - `demo` (the README's first command) starts the example server on a
//!   free loopback port, sends it a burst of traffic and prints what each
//!   layer did.
//! - `server` runs the same server until Ctrl-C, for trying by hand.
//! - `reqwest_client` wraps a `reqwest::Client` in a circuit breaker and
//!   calls a loopback upstream that breaks, recovers and asks for room.

pub mod app;
pub mod client;
pub mod demo;
pub mod reqwest_demo;
pub mod upstream;

//! Where a request's overall [`Deadline`](seawall_core::Deadline) is read from.
//!
//! `Timeout` serves any request type, and most request types have nowhere
//! to carry a deadline, so reading one is a choice made when the layer is
//! built: the layer's type parameter `D` is a [`DeadlineSource`]. The default,
//! [`IgnoreDeadline`], reads nothing and costs nothing. With the `http`
//! feature, `HttpExtensions` reads the deadline from an `http::Request`'s
//! extensions. Any other request type opts in with a closure or function
//! `Fn(&Req) -> Option<Deadline>`.
//!
//! ```
//! use std::time::Duration;
//! // One trait for every layer that reads a deadline, defined in seawall-core,
// so a source written once serves the timeout and the shedder alike.
#[cfg(feature = "http")]
pub use seawall_core::deadline::HttpExtensions;
pub use seawall_core::deadline::{DeadlineSource, IgnoreDeadline};

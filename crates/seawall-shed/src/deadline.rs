//! Where a queued request's overall [`Deadline`](seawall_core::Deadline) is read from.
//!
//! A request that waits in the shedder's queue is dropped, without running,
//! once its deadline passes: nobody is waiting for its answer any more. Most
//! request types have nowhere to carry a deadline, so reading one is chosen
//! when the layer is built, with
//! [`Builder::deadline_from`](crate::Builder::deadline_from). The default,
//! [`IgnoreDeadline`], reads nothing: the queue's own bound alone applies.
//! With the `http` feature, `HttpExtensions` reads the deadline that
//! seawall-http's deadline layer (or the application) put in an
//! `http::Request`'s extensions. Any other request type opts in with a
//! closure or function `Fn(&Req) -> Option<Deadline>`.
//!
//! ```
//! use std::time::Duration;
//! // One trait for every layer that reads a deadline, defined in seawall-core,
// so a source written once serves the timeout and the shedder alike.
#[cfg(feature = "http")]
pub use seawall_core::deadline::HttpExtensions;
pub use seawall_core::deadline::{DeadlineSource, IgnoreDeadline};

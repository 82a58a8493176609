//! The shared vocabulary of seawall's stability middleware.
//!
//! Every seawall layer speaks in the terms defined here, so that one layer can
//! understand another:
//!
//! - [`Outcome`] is what became of a finished call, and [`Classify`] turns a
//!   call's result into one. Breakers, adaptive limits and retry budgets all
//!   learn from the same classification.
//! - [`rejection`] holds the errors by which a layer refuses work locally
//!   ([`Elapsed`](rejection::Elapsed), [`BulkheadFull`](rejection::BulkheadFull),
//!   [`Overloaded`](rejection::Overloaded), ...) and the [`Rejection`] trait
//!   they share, which says which layer refused and when to try again.
//! - [`Deadline`] is an overall time budget that travels with a request.
//! - [`health`] is the registry where stateful layers report their state.
//! - [`names`] documents the tracing targets and metric names.
//! - [`future`] holds what the layers' response futures share.
//!
//! This crate has no HTTP in it; `seawall-http` maps this vocabulary onto
//! requests and responses.
//!
//! ```
//! use std::time::Duration;
//! use seawall_core::{rejection, BoxError, Classify, DefaultClassifier, Outcome};
//! use seawall_core::rejection::BulkheadFull;
//!
//! // A bulkhead's refusal is local: it says nothing about the upstream.
//! let refused: Result<(), BoxError> = Err(BulkheadFull::new(16).into());
//! assert_eq!(DefaultClassifier.classify(&refused, Duration::ZERO), Outcome::Ignored);
//!
//! let err = refused.unwrap_err();
//! assert_eq!(rejection::find(&*err).unwrap().pattern(), rejection::Pattern::Bulkhead);
//! ```

pub mod classify;
mod config;
pub mod deadline;
pub mod future;
pub mod health;
pub mod names;
pub mod outcome;
pub mod rejection;
pub mod spare;

pub use classify::{Classify, DefaultClassifier};
pub use config::ConfigError;
pub use deadline::Deadline;
pub use outcome::{FailureKind, Outcome};
pub use rejection::Rejection;

/// The error type seawall's services return: the inner service's error or a
/// seawall rejection, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

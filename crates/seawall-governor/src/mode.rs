//! Whether a keyed layer sheds or waits, chosen when it is built.
//!
//! A keyed layer learns a request's key in `call`, after readiness, so a
//! keyed request that must wait cannot wait in `poll_ready` as a layer
//! without keys does. It waits in its response future instead, which then
//! owns the request and the inner service that was made ready for it, and
//! that needs `S: Clone`. The mode is a type parameter so that only layers
//! built with [`KeyedBuilder::wait`](crate::KeyedBuilder::wait) ask for
//! that bound, and the default, shedding, keeps the plain future.

/// A keyed layer that refuses at once; the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shed;

/// A keyed layer that waits for its slot, up to a bound; made by
/// [`KeyedBuilder::wait`](crate::KeyedBuilder::wait).
#[derive(Debug, Clone, Copy, Default)]
pub struct Wait;

//! The atomics the permit counters are made of.
//!
//! Under `--cfg seawall_loom` they come from `loom`, so the loom models in
//! `tests/loom.rs` explore every interleaving of racing acquisitions and
//! releases; in every other build they are the std types themselves.

#[cfg(seawall_loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};

#[cfg(not(seawall_loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};

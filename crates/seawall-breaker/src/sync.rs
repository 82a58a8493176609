//! The atomics and the lock the breaker's state is made of.
//!
//! Under `--cfg seawall_loom` they come from `loom`, so the loom model in
//! `tests/loom.rs` explores every interleaving of the closed path and of
//! half-open admission; in every other build they are the std types.

#[cfg(seawall_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
#[cfg(seawall_loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(seawall_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
#[cfg(not(seawall_loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Keeps a value on cache lines of its own, so that a counter every call
/// bumps does not slow down readers of its neighbours (or of the `Arc`'s
/// reference count, which sits right before the breaker).
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

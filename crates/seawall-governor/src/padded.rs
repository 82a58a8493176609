//! A value on cache lines of its own.

use std::ops::Deref;

/// Keeps a contended word (a TAT, a shard's lock) from sharing a cache
/// line with its neighbours, so writing it does not slow their readers.
/// 128 bytes: adjacent-line prefetching pairs 64-byte lines on x86.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> Deref for Padded<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}

//! How the keyed map stores and finds keys: each key is hashed once, and
//! short keys live inside the map's buckets.
//!
//! The map's entries and the borrowed keys looked up in it meet in one
//! trait object, [`Lookup`], so a lookup needs no owned key; and the hash a
//! key was stored with is handed straight back to the map by [`PassThrough`]
//! rather than computed again.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

/// A held key with its hash.
pub(super) struct Stored {
    pub(super) hash: u64,
    pub(super) key: KeyBytes,
}

/// The longest key kept in the bucket itself.
const INLINE: usize = 30;

/// A key's bytes: short ones (most host names) in the bucket, so that
/// comparing reads no other line of memory.
pub(super) enum KeyBytes {
    Inline { len: u8, bytes: [u8; INLINE] },
    Boxed(Box<str>),
}

/// A key to look for, borrowed, with its hash.
pub(super) struct Probe<'a> {
    pub(super) hash: u64,
    pub(super) key: &'a str,
}

/// What the shard's map compares, so that a held key and a borrowed one
/// meet in one type: the map looks up a `dyn Lookup`.
pub(super) trait Lookup {
    fn hash_value(&self) -> u64;
    fn key(&self) -> &[u8];
}

/// Hands the map the hash the key was stored with.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PassThrough;

#[derive(Debug, Default)]
pub(super) struct Passed(u64);

impl Lookup for Stored {
    fn hash_value(&self) -> u64 {
        self.hash
    }

    fn key(&self) -> &[u8] {
        self.key.as_bytes()
    }
}

impl Lookup for Probe<'_> {
    fn hash_value(&self) -> u64 {
        self.hash
    }

    fn key(&self) -> &[u8] {
        self.key.as_bytes()
    }
}

impl KeyBytes {
    pub(super) fn new(key: &str) -> Self {
        match u8::try_from(key.len()) {
            Ok(len) if key.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..key.len()].copy_from_slice(key.as_bytes());
                KeyBytes::Inline { len, bytes }
            }
            _ => KeyBytes::Boxed(key.into()),
        }
    }

    #[inline]
    pub(super) fn as_bytes(&self) -> &[u8] {
        match self {
            KeyBytes::Inline { len, bytes } => &bytes[..usize::from(*len)],
            KeyBytes::Boxed(key) => key.as_bytes(),
        }
    }

    pub(super) fn to_shared(&self) -> Arc<str> {
        match self {
            KeyBytes::Inline { .. } => {
                let key = std::str::from_utf8(self.as_bytes());
                Arc::from(key.expect("stored from a str"))
            }
            KeyBytes::Boxed(key) => Arc::from(&**key),
        }
    }
}

impl<'a> Borrow<dyn Lookup + 'a> for Stored {
    fn borrow(&self) -> &(dyn Lookup + 'a) {
        self
    }
}

impl Hash for dyn Lookup + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash_value());
    }
}

impl PartialEq for dyn Lookup + '_ {
    fn eq(&self, other: &Self) -> bool {
        // The hash first: a mismatch then costs no visit to the key.
        self.hash_value() == other.hash_value() && self.key() == other.key()
    }
}

impl Eq for dyn Lookup + '_ {}

impl Hash for Stored {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialEq for Stored {
    fn eq(&self, other: &Self) -> bool {
        (self as &dyn Lookup) == (other as &dyn Lookup)
    }
}

impl Eq for Stored {}

impl BuildHasher for PassThrough {
    type Hasher = Passed;

    fn build_hasher(&self) -> Passed {
        Passed(0)
    }
}

impl Hasher for Passed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is ever called; fold anything else in anyway.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

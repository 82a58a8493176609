//! Load shedding for tower services.
//!
//! FIXME: crate docs are being written; this skeleton only holds the limit
//! algorithms' trait.

pub mod limit;

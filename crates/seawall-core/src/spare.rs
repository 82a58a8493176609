//! A one-slot, per-thread spare of a shared reference, for layers whose
//! admitted calls must each own an `Arc` of the layer's state.
//!
//! Cloning an `Arc` when a call is admitted and dropping it when the call
//! ends are two locked instructions; on hosts where those are slow they can
//! cost as much as the rest of a layer's hot path. A call that ends can
//! instead [`give_back`] its reference to a thread-local slot, and the next
//! call on that thread [`take`]s it back if it wants a reference to the
//! same value: calls that follow each other on one thread then share one
//! reference and touch no count. A [`Lease`] does both for a type that
//! names its slot through [`Lend`].
//!
//! The slot is the caller's own `thread_local!`, one per type, so that
//! layers of different kinds never evict each other's spare. A spare keeps
//! its value alive until its thread gives back a reference to another value
//! of the type, or exits: at most one value per slot and thread. Anything
//! that must end when the last user goes (a health entry, say) should be
//! held by the users, not by the shared value. A reference that is the
//! value's last is dropped, never kept.
//!
//! ```
//! use std::cell::Cell;
//! use std::sync::Arc;
//! use seawall_core::spare;
//!
//! struct State;
//!
//! thread_local! {
//!     static SPARE: Cell<Option<Arc<State>>> = const { Cell::new(None) };
//! }
//!
//! let state = Arc::new(State);
//! let lent = spare::take(&SPARE, &state).unwrap_or_else(|| state.clone());
//! spare::give_back(&SPARE, lent);
//! // The next call borrows the same reference: the count did not move.
//! let again = spare::take(&SPARE, &state).expect("the spare");
//! assert_eq!(Arc::strong_count(&state), 2);
//! # drop(again);
//! ```

use std::cell::Cell;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::thread::LocalKey;

/// A thread's spare slot for references of type `T`.
pub type Slot<T> = LocalKey<Cell<Option<Arc<T>>>>;

/// The thread's spare, if it is a reference to the same value as `wanted`;
/// a spare of another value stays where it is. `None` also while the
/// thread is being torn down.
#[inline]
pub fn take<T>(slot: &'static Slot<T>, wanted: &Arc<T>) -> Option<Arc<T>> {
    slot.try_with(|cell| {
        let spare = cell.take()?;
        if Arc::ptr_eq(&spare, wanted) {
            Some(spare)
        } else {
            cell.set(Some(spare));
            None
        }
    })
    .ok()
    .flatten()
}

/// Keeps `reference` as the thread's spare, unless nothing else holds its
/// value; the spare it replaces is dropped.
#[inline]
pub fn give_back<T>(slot: &'static Slot<T>, reference: Arc<T>) {
    // The last reference: nobody is left to take it again.
    if Arc::strong_count(&reference) == 1 {
        return;
    }
    // The one replaced is dropped after the slot is let go, since dropping
    // it may run arbitrary code.
    let replaced = slot.try_with(|cell| cell.replace(Some(reference)));
    drop(replaced);
}

/// A type whose references a [`Lease`] lends from a per-thread spare.
///
/// ```
/// use std::cell::Cell;
/// use std::sync::Arc;
/// use seawall_core::spare::{Lease, Lend, Slot};
///
/// struct Limits {
///     max: usize,
/// }
///
/// thread_local! {
///     static SPARE: Cell<Option<Arc<Limits>>> = const { Cell::new(None) };
/// }
///
/// impl Lend for Limits {
///     fn slot() -> Option<&'static Slot<Self>> {
///         Some(&SPARE)
///     }
/// }
///
/// let limits = Arc::new(Limits { max: 8 });
/// drop(Lease::new(&limits));
/// // The first lease left its reference as the spare; the next borrows it.
/// let lease = Lease::new(&limits);
/// assert_eq!(lease.max, 8);
/// assert_eq!(Arc::strong_count(&limits), 2);
/// ```
pub trait Lend: Sized + 'static {
    /// The thread's slot for spares of this type, or `None` to lend none
    /// (under a model checker, say, whose threads are not the host's).
    fn slot() -> Option<&'static Slot<Self>>;

    /// Whether a reference to this value may be kept as a spare once its
    /// lease ends; `true` unless the type says otherwise.
    #[inline]
    fn keeps_spare(&self) -> bool {
        true
    }
}

/// An owned reference to a [`Lend`] value: the thread's spare when it is
/// one of that value, a new clone otherwise; given back to the spare when
/// dropped. One word, like the `Arc` it holds.
pub struct Lease<T: Lend> {
    /// `None` only while it is dropped.
    value: Option<Arc<T>>,
}

impl<T: Lend> Lease<T> {
    /// A reference to `value` for one call.
    #[inline]
    pub fn new(value: &Arc<T>) -> Lease<T> {
        let lent = T::slot()
            .and_then(|slot| take(slot, value))
            .unwrap_or_else(|| Arc::clone(value));
        Lease { value: Some(lent) }
    }
}

impl<T: Lend> Deref for Lease<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        match &self.value {
            Some(value) => value,
            None => unreachable!("a lease is emptied only as it is dropped"),
        }
    }
}

impl<T: Lend> Drop for Lease<T> {
    #[inline]
    fn drop(&mut self) {
        let Some(value) = self.value.take() else {
            return;
        };
        match T::slot() {
            Some(slot) if value.keeps_spare() => give_back(slot, value),
            _ => drop(value),
        }
    }
}

impl<T: Lend + fmt::Debug> fmt::Debug for Lease<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Lease").field(&**self).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::sync::Arc;

    use super::{Lease, Lend, Slot};

    struct Kept(u32);

    thread_local! {
        static KEPT: Cell<Option<Arc<Kept>>> = const { Cell::new(None) };
    }

    impl Lend for Kept {
        fn slot() -> Option<&'static Slot<Self>> {
            Some(&KEPT)
        }

        fn keeps_spare(&self) -> bool {
            self.0 != 0
        }
    }

    #[test]
    fn a_lease_after_another_borrows_the_same_reference() {
        let value = Arc::new(Kept(1));
        drop(Lease::new(&value));
        assert_eq!(Arc::strong_count(&value), 2, "kept as the spare");
        let lease = Lease::new(&value);
        assert_eq!(Arc::strong_count(&value), 2, "lent, not cloned");
        assert_eq!(lease.0, 1);
        drop(lease);
        assert_eq!(Arc::strong_count(&value), 2);
    }

    #[test]
    fn a_spare_of_another_value_is_left_and_then_replaced() {
        let (first, second) = (Arc::new(Kept(1)), Arc::new(Kept(2)));
        drop(Lease::new(&first));
        let lease = Lease::new(&second);
        assert_eq!(
            Arc::strong_count(&second),
            2,
            "cloned: the spare is another's"
        );
        assert_eq!(Arc::strong_count(&first), 2, "its spare stays");
        drop(lease);
        assert_eq!(Arc::strong_count(&first), 1, "at most one spare per thread");
        assert_eq!(Arc::strong_count(&second), 2);
    }

    #[test]
    fn the_last_reference_and_a_value_that_keeps_none_are_dropped() {
        let only = Arc::new(Kept(3));
        let memory = Arc::downgrade(&only);
        let lease = Lease::new(&only);
        drop(only);
        drop(lease);
        assert!(memory.upgrade().is_none(), "the last reference is not kept");

        let unkept = Arc::new(Kept(0));
        drop(Lease::new(&unkept));
        assert_eq!(Arc::strong_count(&unkept), 1, "it keeps no spare");
    }

    #[test]
    fn a_type_without_a_slot_clones_every_time() {
        struct Unlent;
        impl Lend for Unlent {
            fn slot() -> Option<&'static Slot<Self>> {
                None
            }
        }
        let value = Arc::new(Unlent);
        let lease = Lease::new(&value);
        assert_eq!(Arc::strong_count(&value), 2);
        drop(lease);
        assert_eq!(Arc::strong_count(&value), 1);
    }
}

//! A one-slot, per-thread spare of a shared reference, for layers whose
//! admitted calls must each own an `Arc` of the layer's state.
//!
//! Cloning an `Arc` when a call is admitted and dropping it when the call
//! ends are two locked instructions; on hosts where those are slow they can
//! cost as much as the rest of a layer's hot path. A call that ends can
//! instead [`give_back`] its reference to a thread-local slot, and the next
//! call on that thread [`take`]s it back if it wants a reference to the
//! same value: calls that follow each other on one thread then share one
//! reference and touch no count.
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

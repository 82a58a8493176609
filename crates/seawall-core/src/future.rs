//! Pieces the layers' response futures share.

use std::fmt;

/// A refusal that a response future yields on its first poll.
///
/// A layer that refuses a call decides so in `call` but must still return
/// its future; the future holds the refusal and hands it over once. It is
/// taken out of line, so that the future's path for admitted calls stays
/// short.
///
/// ```
/// use seawall_core::future::Refused;
/// use seawall_core::rejection::BulkheadFull;
///
/// let mut refused = Refused::new(BulkheadFull::new(16));
/// assert!(refused.is_pending());
/// assert_eq!(refused.take().max_in_flight(), 16);
/// assert!(!refused.is_pending());
/// ```
pub struct Refused<E> {
    error: Option<E>,
}

impl<E> Refused<E> {
    /// A refusal not yet yielded.
    #[cold]
    pub fn new(error: E) -> Self {
        Refused { error: Some(error) }
    }

    /// The refusal, for the poll that yields it.
    ///
    /// # Panics
    ///
    /// When it was taken already: its future was polled after it completed.
    #[cold]
    #[inline(never)]
    #[track_caller]
    pub fn take(&mut self) -> E {
        self.error
            .take()
            .expect("a refused response future polled after completion")
    }

    /// Whether the refusal has yet to be yielded.
    pub fn is_pending(&self) -> bool {
        self.error.is_some()
    }
}

impl<E> fmt::Debug for Refused<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.is_pending() {
            "pending"
        } else {
            "taken"
        };
        f.debug_struct("Refused").field("state", &state).finish()
    }
}

//! The waiter list: requests queued for a slot (shedding mode) or services
//! waiting for one in `poll_ready` (back pressure).
//!
//! A plain value kept behind the shedder's mutex. Each waiter owns an entry
//! from the moment it is pushed until it removes it; granting a slot or
//! expiring a waiter only changes the entry's state and hands back its
//! waker, so an entry's key is never reused while its owner holds it.

use std::collections::VecDeque;
use std::task::{Poll, Waker};

use tokio::time::Instant;

/// The order in which queued requests get freed slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum QueueOrder {
    /// Oldest first.
    Fifo,
    /// Newest first.
    Lifo,
    /// Oldest first while the queue is less than half full, newest first
    /// from then on: under overload the oldest requests are the likeliest
    /// to have been given up on by their callers, so the newest are served
    /// while the oldest run out their deadlines.
    #[default]
    AdaptiveLifo,
}

/// The waiters, in arrival order.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    entries: Vec<Entry>,
    free: Vec<usize>,
    /// Keys of the entries in state `Waiting`, oldest first.
    order: VecDeque<usize>,
}

#[derive(Debug)]
struct Entry {
    state: State,
    deadline: Option<Instant>,
    waker: Option<Waker>,
}

/// Where a waiter stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// The entry belongs to nobody.
    Free,
    /// In line for a slot.
    Waiting,
    /// Given a slot, which its owner must take or give back.
    Granted(Grant),
    /// Its deadline passed before a slot came.
    Expired,
}

/// A slot handed to a waiter: the calls in flight with it, and whether it
/// was taken over the limit in shadow mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grant {
    pub(crate) in_flight: usize,
    pub(crate) over_limit: bool,
}

impl Queue {
    /// Waiters in line now.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// Puts a new waiter at the back of the line; returns its key.
    pub(crate) fn push(&mut self, deadline: Option<Instant>) -> usize {
        let entry = Entry {
            state: State::Waiting,
            deadline,
            waker: None,
        };
        let key = match self.free.pop() {
            Some(key) => {
                self.entries[key] = entry;
                key
            }
            None => {
                self.entries.push(entry);
                self.entries.len() - 1
            }
        };
        self.order.push_back(key);
        key
    }

    /// The waiter next in line, newest first when `lifo`, with its deadline.
    pub(crate) fn next(&self, lifo: bool) -> Option<(usize, Option<Instant>)> {
        let key = if lifo {
            *self.order.back()?
        } else {
            *self.order.front()?
        };
        Some((key, self.entries[key].deadline))
    }

    /// Hands `grant` to the waiter `key`, which must be [`next`](Self::next)
    /// with the same `lifo`; returns the waker to wake.
    pub(crate) fn grant(&mut self, key: usize, lifo: bool, grant: Grant) -> Option<Waker> {
        self.settle(key, lifo, State::Granted(grant))
    }

    /// Marks the waiter `key`, which must be [`next`](Self::next) with the
    /// same `lifo`, as expired; returns the waker to wake.
    pub(crate) fn expire(&mut self, key: usize, lifo: bool) -> Option<Waker> {
        self.settle(key, lifo, State::Expired)
    }

    /// The state of waiter `key`; while it waits, `waker` is kept to wake
    /// it.
    pub(crate) fn poll(&mut self, key: usize, waker: &Waker) -> Poll<State> {
        let entry = &mut self.entries[key];
        if entry.state != State::Waiting {
            return Poll::Ready(entry.state);
        }
        match &mut entry.waker {
            Some(kept) => kept.clone_from(waker),
            None => entry.waker = Some(waker.clone()),
        }
        Poll::Pending
    }

    /// Frees the entry `key`, taking it out of the line if it still waits;
    /// returns the state it was in, so that a granted slot can be given
    /// back.
    pub(crate) fn remove(&mut self, key: usize) -> State {
        let entry = &mut self.entries[key];
        let state = std::mem::replace(&mut entry.state, State::Free);
        debug_assert_ne!(state, State::Free, "a waiter was removed twice");
        entry.waker = None;
        if state == State::Waiting {
            // The line is bounded by the queue's capacity, or by the number
            // of services waiting, so the search is short.
            if let Some(at) = self.order.iter().position(|&k| k == key) {
                self.order.remove(at);
            }
        }
        self.free.push(key);
        state
    }

    fn settle(&mut self, key: usize, lifo: bool, state: State) -> Option<Waker> {
        let taken = if lifo {
            self.order.pop_back()
        } else {
            self.order.pop_front()
        };
        debug_assert_eq!(taken, Some(key), "only the next waiter is settled");
        let entry = &mut self.entries[key];
        entry.state = state;
        entry.waker.take()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;
    use std::time::Duration;

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    const GRANT: Grant = Grant {
        in_flight: 1,
        over_limit: false,
    };

    #[test]
    fn fifo_and_lifo_take_opposite_ends() {
        let mut queue = Queue::default();
        let a = queue.push(None);
        let b = queue.push(None);
        let c = queue.push(None);
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.next(false), Some((a, None)));
        assert_eq!(queue.next(true), Some((c, None)));

        queue.grant(c, true, GRANT);
        queue.grant(a, false, GRANT);
        assert_eq!(queue.next(false), Some((b, None)));
        assert_eq!(queue.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_sees_its_grant_and_its_waker_is_kept() {
        let mut queue = Queue::default();
        let counter = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let deadline = Instant::now() + Duration::from_millis(5);
        let key = queue.push(Some(deadline));

        assert_eq!(queue.poll(key, &waker), Poll::Pending);
        assert_eq!(queue.next(false), Some((key, Some(deadline))));
        let woken = queue.grant(key, false, GRANT).expect("the kept waker");
        woken.wake();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert_eq!(queue.poll(key, &waker), Poll::Ready(State::Granted(GRANT)));
        assert_eq!(queue.len(), 0, "a granted waiter is out of line");
        assert_eq!(queue.remove(key), State::Granted(GRANT));
    }

    #[test]
    fn removing_a_waiter_takes_it_out_of_line_and_reuses_its_entry() {
        let mut queue = Queue::default();
        let a = queue.push(None);
        let b = queue.push(None);
        assert_eq!(queue.remove(a), State::Waiting);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.next(false), Some((b, None)));

        let c = queue.push(None);
        assert_eq!(c, a, "the freed entry is reused");
        queue.expire(b, false);
        assert_eq!(queue.remove(b), State::Expired);
        assert_eq!(queue.remove(c), State::Waiting);
        assert_eq!(queue.len(), 0);
        assert_eq!(queue.entries.len(), 2, "no entry was added for reuse");
    }
}

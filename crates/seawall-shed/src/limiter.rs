//! The shared limit: how many calls may be in flight, how many are, and the
//! algorithm that moves the limit.
//!
//! Admission and release touch only two atomics. The algorithm sits behind
//! a std `Mutex` taken once per finished call, to feed it a sample and
//! publish the limit it returns; the lock is never held across an await
//! or while waking anyone.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, TryLockError};

use crate::limit::{LimitAlgorithm, Sample};

/// A limit, the calls in flight against it, and the algorithm behind it.
pub(crate) struct Limiter {
    limit: AtomicUsize,
    in_flight: AtomicUsize,
    learner: Mutex<Learner>,
    algorithm: &'static str,
    learns: bool,
}

/// What [`Limiter::record`] did to the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recorded {
    /// The limit before the sample.
    pub(crate) previous: usize,
    /// The limit now.
    pub(crate) limit: usize,
    /// The last limit reported as a material change, when this sample
    /// moved the limit 10% or more away from it.
    pub(crate) material_since: Option<usize>,
}

struct Learner {
    algorithm: Box<dyn LimitAlgorithm>,
    /// The limit when a change was last reported.
    reported: usize,
}

impl Limiter {
    /// A limiter starting at the algorithm's initial limit, at least 1.
    pub(crate) fn new(algorithm: Box<dyn LimitAlgorithm>) -> Self {
        let initial = algorithm.initial_limit().max(1);
        Limiter {
            limit: AtomicUsize::new(initial),
            in_flight: AtomicUsize::new(0),
            algorithm: algorithm.name(),
            learns: algorithm.learns(),
            learner: Mutex::new(Learner {
                algorithm,
                reported: initial,
            }),
        }
    }

    /// The limit now.
    #[inline]
    pub(crate) fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Calls in flight now.
    #[inline]
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The algorithm's name.
    pub(crate) fn algorithm(&self) -> &'static str {
        self.algorithm
    }

    /// Whether the algorithm wants samples; when not, calls skip timing
    /// and recording.
    #[inline]
    pub(crate) fn learns(&self) -> bool {
        self.learns
    }

    /// Takes a slot if fewer than the limit are in flight; returns the
    /// calls in flight with it.
    ///
    /// Sequentially consistent, like [`release`](Self::release): a waiter
    /// counts itself in the queue and then tries here, a releaser gives a
    /// slot back and then looks at the queue, and one of the two must see
    /// the other.
    #[inline]
    pub(crate) fn try_acquire(&self) -> Option<usize> {
        let mut used = self.in_flight.load(Ordering::Relaxed);
        loop {
            if used >= self.limit.load(Ordering::SeqCst) {
                return None;
            }
            match self.in_flight.compare_exchange_weak(
                used,
                used + 1,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(used + 1),
                Err(actual) => used = actual,
            }
        }
    }

    /// Takes a slot whatever the limit, in shadow mode; returns the calls
    /// in flight with it.
    pub(crate) fn force_acquire(&self) -> usize {
        self.in_flight.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Gives a slot back.
    #[inline]
    pub(crate) fn release(&self) {
        let before = self.in_flight.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(before > 0, "a slot was given back twice");
    }

    /// Feeds `sample` to the algorithm and publishes the limit it returns,
    /// at least 1 so that the service can always learn again. A success
    /// that finds another call feeding the algorithm is skipped.
    pub(crate) fn record(&self, sample: &Sample) -> Recorded {
        // A panic inside a user's algorithm leaves it as it left it; the
        // limiter itself has nothing half-written under this lock.
        let mut learner = match self.learner.try_lock() {
            Ok(learner) => learner,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            // Another call is feeding the algorithm. Under that much
            // concurrency samples are plentiful, and waiting for the lock
            // on every call would serialise the service on it: a success
            // is skipped. A loss is rare and is the signal to back off, so
            // it waits its turn.
            Err(TryLockError::WouldBlock) if !sample.dropped => {
                let limit = self.limit();
                return Recorded {
                    previous: limit,
                    limit,
                    material_since: None,
                };
            }
            Err(TryLockError::WouldBlock) => {
                self.learner.lock().unwrap_or_else(PoisonError::into_inner)
            }
        };
        let limit = learner.algorithm.update(sample).max(1);
        // Written only when it moves: every admission reads this word, and
        // a write per call would pull its line away from them.
        let previous = self.limit.load(Ordering::Relaxed);
        if limit != previous {
            self.limit.store(limit, Ordering::SeqCst);
        }
        let reported = learner.reported;
        let material = limit.abs_diff(reported).saturating_mul(10) >= reported;
        let material_since = (material && limit != reported).then(|| {
            learner.reported = limit;
            reported
        });
        Recorded {
            previous,
            limit,
            material_since,
        }
    }
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("algorithm", &self.algorithm)
            .field("limit", &self.limit())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// Returns the limits it is given, one per sample, then holds the last.
    struct Script(Vec<usize>);

    impl LimitAlgorithm for Script {
        fn initial_limit(&self) -> usize {
            self.0[0]
        }

        fn update(&mut self, _sample: &Sample) -> usize {
            if self.0.len() > 1 {
                self.0.remove(0);
            }
            self.0[0]
        }

        fn name(&self) -> &'static str {
            "script"
        }
    }

    fn sample() -> Sample {
        Sample {
            latency: Duration::from_millis(1),
            in_flight: 1,
            dropped: false,
        }
    }

    #[test]
    fn admits_up_to_the_limit_and_counts_itself_in() {
        let limiter = Limiter::new(Box::new(Script(vec![2])));
        assert_eq!(limiter.try_acquire(), Some(1));
        assert_eq!(limiter.try_acquire(), Some(2));
        assert_eq!(limiter.try_acquire(), None);
        limiter.release();
        assert_eq!(limiter.try_acquire(), Some(2));
        assert_eq!(limiter.force_acquire(), 3, "shadow mode passes the limit");
        assert_eq!(limiter.in_flight(), 3);
    }

    #[test]
    fn publishes_each_limit_and_reports_material_changes() {
        let limiter = Limiter::new(Box::new(Script(vec![100, 100, 105, 109, 110, 99, 1, 0])));
        assert_eq!(limiter.limit(), 100);
        assert_eq!(limiter.algorithm(), "script");

        // Unchanged, then small steps that add up to 10% of the last report;
        // the last step, 0 held at 1, is no change from 1.
        let steps: Vec<_> = (0..7).map(|_| limiter.record(&sample())).collect();
        let material: Vec<_> = steps.iter().map(|r| r.material_since).collect();
        assert_eq!(
            material,
            [None, None, None, Some(100), Some(110), Some(99), None]
        );
        assert_eq!(steps[4].previous, 110);
        assert_eq!(steps[4].limit, 99);

        // An algorithm that returns 0 is held at 1.
        assert_eq!(limiter.record(&sample()).limit, 1);
        assert_eq!(limiter.limit(), 1);
    }

    #[test]
    fn a_zero_initial_limit_is_held_at_one() {
        let limiter = Limiter::new(Box::new(Script(vec![0])));
        assert_eq!(limiter.limit(), 1);
    }

    #[test]
    fn racing_threads_never_pass_the_limit() {
        let limiter = Arc::new(Limiter::new(Box::new(Script(vec![3]))));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let limiter = limiter.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        if let Some(n) = limiter.try_acquire() {
                            assert!(n <= 3);
                            assert!(limiter.in_flight() <= 3);
                            limiter.release();
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("no thread panicked");
        }
        assert_eq!(limiter.in_flight(), 0);
    }
}

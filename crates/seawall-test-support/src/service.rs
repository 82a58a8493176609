//! Inner services and errors for contract tests.

use std::error::Error;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tower_service::Service;

/// The error type the layers box.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// An always-ready inner service that counts how often it is polled and
/// called; its clones share the counts.
///
/// ```
/// use std::task::{Context, Poll, Waker};
/// use seawall_test_support::service::Probe;
/// use tower_service::Service;
///
/// let probe = Probe::default();
/// let mut clone = probe.clone();
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(matches!(clone.poll_ready(&mut cx), Poll::Ready(Ok(()))));
/// drop(clone.call(()));
/// assert_eq!((probe.polls(), probe.calls()), (1, 1));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Probe {
    polls: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
}

impl Probe {
    /// How often any clone was polled for readiness.
    pub fn polls(&self) -> usize {
        self.polls.load(Ordering::SeqCst)
    }

    /// How often any clone was called.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Service<()> for Probe {
    type Response = ();
    type Error = BoxError;
    type Future = std::future::Ready<Result<(), BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: ()) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(()))
    }
}

/// An inner service's own error, to check that a layer passes it through
/// without wrapping it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Broken;

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("broken")
    }
}

impl Error for Broken {}

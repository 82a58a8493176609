//! Helpers shared by the integration tests: a limit algorithm the test
//! steers and reads, and the refusal inside an error. The metrics recorder
//! and the tracing capture come from `seawall-test-support`.

#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};

use seawall_core::BoxError;
use seawall_shed::limit::{LimitAlgorithm, Sample};
use seawall_shed::Overloaded;

/// A limit the test sets, and every sample the shedder fed it.
#[derive(Clone)]
pub struct Probe {
    state: Arc<Mutex<ProbeState>>,
    learns: bool,
}

struct ProbeState {
    limit: usize,
    samples: Vec<Sample>,
}

impl Probe {
    /// An algorithm that holds `limit` until told otherwise.
    pub fn new(limit: usize) -> Self {
        Probe {
            state: Arc::new(Mutex::new(ProbeState {
                limit,
                samples: Vec::new(),
            })),
            learns: true,
        }
    }

    /// Like [`Probe::new`], but says it learns nothing, as a fixed limit
    /// does, so it should never be fed.
    #[allow(dead_code)]
    pub fn deaf(limit: usize) -> Self {
        Probe {
            learns: false,
            ..Probe::new(limit)
        }
    }

    /// The limit the next sample publishes.
    pub fn set_limit(&self, limit: usize) {
        self.state.lock().unwrap().limit = limit;
    }

    /// Every sample so far.
    pub fn samples(&self) -> Vec<Sample> {
        self.state.lock().unwrap().samples.clone()
    }
}

impl LimitAlgorithm for Probe {
    fn initial_limit(&self) -> usize {
        self.state.lock().unwrap().limit
    }

    fn update(&mut self, sample: &Sample) -> usize {
        let mut state = self.state.lock().unwrap();
        state.samples.push(*sample);
        state.limit
    }

    fn name(&self) -> &'static str {
        "probe"
    }

    fn learns(&self) -> bool {
        self.learns
    }
}

/// The refusal inside `error`, or a panic naming what it was instead.
pub fn overloaded(error: &BoxError) -> Overloaded {
    error
        .downcast_ref::<Overloaded>()
        .unwrap_or_else(|| panic!("expected Overloaded, got {error}"))
        .clone()
}

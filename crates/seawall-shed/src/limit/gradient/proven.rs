//! The concurrency the service has lately carried without queueing.

/// The highest admission-time `in_flight` of samples whose latency stayed
/// within tolerance, over the last one or two long windows of samples: a
/// sliding maximum in two buckets, so that it neither fades between
/// samples nor outlives a change for long.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Proven {
    current: usize,
    previous: usize,
    samples: usize,
}

impl Proven {
    pub(super) fn record(&mut self, in_flight: Option<usize>, window: usize) {
        if self.samples >= window {
            self.previous = self.current;
            self.current = 0;
            self.samples = 0;
        }
        self.samples += 1;
        if let Some(in_flight) = in_flight {
            self.current = self.current.max(in_flight);
        }
    }

    pub(super) fn get(&self) -> usize {
        self.current.max(self.previous)
    }
}

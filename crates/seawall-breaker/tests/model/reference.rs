//! The reference model: the rules of the crate docs, written the plainest
//! way.

use seawall_breaker::BreakerState;

#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub(crate) window: WindowRule,
    pub(crate) minimum_calls: u64,
    pub(crate) failure_rate: Option<f64>,
    pub(crate) slow_call_ms: Option<u64>,
    pub(crate) slow_rate: Option<f64>,
    pub(crate) consecutive: Option<u32>,
    pub(crate) open_ms: u64,
    pub(crate) max_open_ms: u64,
    pub(crate) probes: u32,
    pub(crate) ratio: f64,
    pub(crate) half_open_timeout_ms: u64,
    pub(crate) max_retry_after_ms: u64,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum WindowRule {
    Count(usize),
    Time { tick_ms: u64, buckets: u64 },
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Acquire,
    Finish {
        pick: usize,
        outcome: Kind,
        elapsed_ms: u64,
    },
    Cancel {
        pick: usize,
    },
    Advance {
        ms: u64,
    },
    HoldOpen {
        ms: u64,
    },
    Operator(Action),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Success,
    Failure,
    Ignored,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Action {
    ForceOpen,
    ForceClosed,
    Disable,
    MetricsOnly,
    Reset,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum State {
    Closed,
    Open {
        until: u64,
    },
    HalfOpen {
        deadline: u64,
        taken: u32,
        successes: u32,
        failures: u32,
    },
    ForcedOpen,
    Disabled,
    MetricsOnly,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Ticket {
    Call(u64),
    Probe(u64),
    Free,
}

/// A recorded call: the tick it ended in, whether it failed, whether it
/// was slow.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    tick: u64,
    failed: bool,
    slow: bool,
}

#[derive(Debug)]
pub(crate) struct Model {
    rules: Rules,
    state: State,
    pub(crate) generation: u64,
    entries: Vec<Entry>,
    pub(crate) consecutive: u32,
    trips_in_a_row: u32,
    pub(crate) trips: u64,
    pub(crate) shadow_trips: u64,
    pub(crate) rejected: u64,
}

impl Model {
    pub(crate) fn new(rules: Rules) -> Self {
        Model {
            rules,
            state: State::Closed,
            generation: 0,
            entries: Vec::new(),
            consecutive: 0,
            trips_in_a_row: 0,
            trips: 0,
            shadow_trips: 0,
            rejected: 0,
        }
    }

    fn required(&self) -> u32 {
        ((self.rules.ratio * f64::from(self.rules.probes)).ceil() as u32)
            .clamp(1, self.rules.probes)
    }

    /// `Ok(ticket)`, or `Err((retry_after_ms, forced))`.
    pub(crate) fn acquire(&mut self, now: u64) -> Result<Ticket, (u64, bool)> {
        loop {
            match self.state {
                State::Closed | State::MetricsOnly => return Ok(Ticket::Call(self.generation)),
                State::Disabled => return Ok(Ticket::Free),
                State::ForcedOpen => {
                    self.rejected += 1;
                    return Err((self.rules.open_ms, true));
                }
                State::Open { until } if now < until => {
                    self.rejected += 1;
                    return Err((until - now, false));
                }
                State::Open { .. } => self.enter(State::HalfOpen {
                    deadline: now + self.rules.half_open_timeout_ms,
                    taken: 0,
                    successes: 0,
                    failures: 0,
                }),
                State::HalfOpen { deadline, .. } if now >= deadline => self.trip(now),
                State::HalfOpen { taken, .. } if taken >= self.rules.probes => {
                    self.rejected += 1;
                    return Err((self.rules.open_ms, false));
                }
                State::HalfOpen { ref mut taken, .. } => {
                    *taken += 1;
                    return Ok(Ticket::Probe(self.generation));
                }
            }
        }
    }

    pub(crate) fn finish(&mut self, ticket: Ticket, kind: Kind, elapsed_ms: u64, now: u64) {
        let failed = match kind {
            Kind::Success => false,
            Kind::Failure => true,
            Kind::Ignored => return self.cancel(ticket),
        };
        let slow = self
            .rules
            .slow_call_ms
            .is_some_and(|limit| elapsed_ms > limit);
        match ticket {
            Ticket::Free => {}
            Ticket::Call(generation) => {
                if generation == self.generation {
                    self.record(failed, slow, now);
                }
            }
            Ticket::Probe(generation) => {
                let State::HalfOpen { deadline, .. } = self.state else {
                    return;
                };
                if generation != self.generation {
                    return;
                }
                if now >= deadline {
                    return self.trip(now);
                }
                let slow_fails = slow && self.rules.slow_rate.is_some();
                let success = !(failed || slow_fails);
                let required = self.required();
                let limit = self.rules.probes;
                let State::HalfOpen {
                    successes,
                    failures,
                    ..
                } = &mut self.state
                else {
                    unreachable!()
                };
                if success {
                    *successes += 1;
                } else {
                    *failures += 1;
                }
                if *successes >= required {
                    self.close();
                } else if *failures > limit - required {
                    self.trip(now);
                }
            }
        }
    }

    pub(crate) fn cancel(&mut self, ticket: Ticket) {
        if let (Ticket::Probe(generation), State::HalfOpen { taken, .. }) =
            (ticket, &mut self.state)
        {
            if generation == self.generation {
                *taken -= 1;
            }
        }
    }

    fn record(&mut self, failed: bool, slow: bool, now: u64) {
        if self.rules.consecutive.is_some() {
            self.consecutive = if failed { self.consecutive + 1 } else { 0 };
        }
        let tick = self.tick(now);
        self.entries.push(Entry { tick, failed, slow });
        let (calls, failures, slow_calls) = self.counts(now);
        let reached = |part: u64, rate: Option<f64>| {
            rate.is_some_and(|rate| {
                let ppm = (rate * 1e6).round() as u64;
                part > 0 && part * 1_000_000 >= ppm * calls
            })
        };
        let trips = self
            .rules
            .consecutive
            .is_some_and(|n| self.consecutive >= n)
            || (calls >= self.rules.minimum_calls
                && (reached(failures, self.rules.failure_rate)
                    || reached(slow_calls, self.rules.slow_rate)));
        if !trips {
            return;
        }
        if self.state == State::MetricsOnly {
            self.shadow_trips += 1;
            self.enter(State::MetricsOnly);
        } else {
            self.trip(now);
        }
    }

    pub(crate) fn hold_open(&mut self, ms: u64, now: u64) {
        let hold = ms.min(self.rules.max_retry_after_ms);
        if hold == 0 {
            return;
        }
        let until = now + hold;
        match self.state {
            State::Closed | State::HalfOpen { .. } => self.enter(State::Open { until }),
            State::Open { until: current } if until > current => self.enter(State::Open { until }),
            _ => {}
        }
    }

    pub(crate) fn operate(&mut self, action: Action) {
        match action {
            Action::ForceOpen => self.enter(State::ForcedOpen),
            Action::ForceClosed => self.close(),
            Action::Disable => self.enter(State::Disabled),
            Action::MetricsOnly => self.enter(State::MetricsOnly),
            Action::Reset => {
                self.close();
                self.trips = 0;
                self.shadow_trips = 0;
                self.rejected = 0;
            }
        }
    }

    fn trip(&mut self, now: u64) {
        self.trips += 1;
        self.trips_in_a_row += 1;
        let grown = self.rules.open_ms << (self.trips_in_a_row - 1).min(40);
        let until = now + grown.min(self.rules.max_open_ms);
        self.enter(State::Open { until });
    }

    fn close(&mut self) {
        self.trips_in_a_row = 0;
        self.enter(State::Closed);
    }

    fn enter(&mut self, state: State) {
        self.generation += 1;
        if matches!(state, State::Closed | State::MetricsOnly | State::Disabled) {
            self.entries.clear();
            self.consecutive = 0;
        }
        self.state = state;
    }

    fn tick(&self, now: u64) -> u64 {
        match self.rules.window {
            WindowRule::Count(_) => 0,
            WindowRule::Time { tick_ms, .. } => now / tick_ms,
        }
    }

    /// Calls, failures and slow calls in the window at `now`.
    pub(crate) fn counts(&self, now: u64) -> (u64, u64, u64) {
        let live: Vec<&Entry> = match self.rules.window {
            WindowRule::Count(size) => self.entries.iter().rev().take(size).collect(),
            WindowRule::Time { buckets, .. } => {
                let tick = self.tick(now);
                self.entries
                    .iter()
                    .filter(|e| e.tick + buckets > tick)
                    .collect()
            }
        };
        let count = |f: fn(&Entry) -> bool| live.iter().filter(|e| f(e)).count() as u64;
        (live.len() as u64, count(|e| e.failed), count(|e| e.slow))
    }

    /// The state the next call would find.
    pub(crate) fn effective(&self, now: u64) -> BreakerState {
        match self.state {
            State::Closed => BreakerState::Closed,
            State::Open { until } if now >= until => BreakerState::HalfOpen,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { deadline, .. } if now >= deadline => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
            State::ForcedOpen => BreakerState::ForcedOpen,
            State::Disabled => BreakerState::Disabled,
            State::MetricsOnly => BreakerState::MetricsOnly,
        }
    }

    pub(crate) fn probes_in_flight(&self) -> u32 {
        match self.state {
            State::HalfOpen {
                taken,
                successes,
                failures,
                ..
            } => taken - successes - failures,
            _ => 0,
        }
    }
}

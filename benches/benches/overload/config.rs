//! The experiment's settings: defaults, and the environment variables that
//! change them.

use std::time::Duration;

use crate::server::Mode;

/// The offered loads, as multiples of the measured capacity, in the order
/// they are sent: a ramp to ten times capacity, then a step back down.
pub(crate) const LOADS: [f64; 6] = [0.5, 1.0, 2.0, 4.0, 10.0, 0.5];

/// Everything one run of the experiment needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// How long each load is offered.
    pub(crate) phase: Duration,
    /// How many times the modes are run, interleaved.
    pub(crate) rounds: usize,
    /// The modes, in the order they run in each round.
    pub(crate) modes: Vec<Mode>,
    /// How many calls the handler's dependency serves at once.
    pub(crate) permits: usize,
    /// How long the dependency takes per call.
    pub(crate) service_time: Duration,
    /// A success slower than this does not count as goodput.
    pub(crate) objective: Duration,
    /// Keep-alive connections the open-loop generator sends over.
    pub(crate) connections: usize,
    /// How long the closed-loop capacity measurement lasts (after a warm-up
    /// of a quarter of it).
    pub(crate) capacity_time: Duration,
    /// How long the generator waits for late answers after the last load
    /// ends, before it gives up on them.
    pub(crate) grace: Duration,
}

impl Config {
    /// The defaults, changed by `OVERLOAD_*` environment variables.
    pub(crate) fn from_env() -> Result<Self, String> {
        let modes = match std::env::var("OVERLOAD_MODES") {
            Ok(list) => list
                .split(',')
                .map(|name| Mode::parse(name.trim()))
                .collect::<Result<Vec<_>, _>>()?,
            Err(_) => Mode::ALL.to_vec(),
        };
        if modes.is_empty() {
            return Err("OVERLOAD_MODES names no mode".to_owned());
        }
        let config = Self {
            phase: millis("OVERLOAD_PHASE_MS", 2_000)?,
            rounds: number("OVERLOAD_ROUNDS", 3)?,
            modes,
            permits: number("OVERLOAD_PERMITS", 8)?,
            service_time: millis("OVERLOAD_SERVICE_MS", 10)?,
            objective: millis("OVERLOAD_OBJECTIVE_MS", 100)?,
            connections: number("OVERLOAD_CONNECTIONS", 128)?,
            capacity_time: millis("OVERLOAD_CAPACITY_MS", 2_000)?,
            grace: millis("OVERLOAD_GRACE_MS", 1_000)?,
        };
        if config.rounds == 0 || config.permits == 0 || config.connections == 0 {
            return Err(
                "OVERLOAD_ROUNDS, OVERLOAD_PERMITS and OVERLOAD_CONNECTIONS must be at least 1"
                    .to_owned(),
            );
        }
        if config.phase < Duration::from_millis(200) {
            return Err("OVERLOAD_PHASE_MS must be at least 200".to_owned());
        }
        Ok(config)
    }

    /// A rough upper bound on the run's length, printed before it starts.
    pub(crate) fn estimate(&self) -> Duration {
        let per_mode = self.phase * LOADS.len() as u32 + self.grace + Duration::from_millis(300);
        self.capacity_time * 5 / 4 + per_mode * (self.modes.len() * self.rounds) as u32
    }
}

fn number(name: &str, default: usize) -> Result<usize, String> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("{name} must be a whole number, not {text:?}")),
        Err(_) => Ok(default),
    }
}

fn millis(name: &str, default: u64) -> Result<Duration, String> {
    let n = number(name, usize::try_from(default).unwrap_or(usize::MAX))?;
    Ok(Duration::from_millis(n as u64))
}

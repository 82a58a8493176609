//! The validated configuration of an action governor.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{ActionGovernor, Allowance, Limit, Record, Shared, MAX_ACTIONS_PER_WINDOW};
use crate::error::ConfigError;

/// Builds an [`ActionGovernor`]; made by [`ActionGovernor::builder`].
#[must_use = "a builder does nothing until `build` is called"]
#[derive(Debug)]
pub struct ActionGovernorBuilder {
    name: Arc<str>,
    limits: Vec<(Allowance, Duration)>,
    fleet_size: Option<u32>,
}

impl ActionGovernorBuilder {
    pub(super) fn new() -> Self {
        ActionGovernorBuilder {
            name: Arc::from("actions"),
            limits: Vec::new(),
            fleet_size: None,
        }
    }

    /// Names the governor in logs and refusals. Defaults to `"actions"`.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Arc::from(name);
        self
    }

    /// Allows at most `count` actions in any `window`.
    pub fn at_most(mut self, count: u32, window: Duration) -> Self {
        self.limits.push((Allowance::Count(count), window));
        self
    }

    /// Allows at most `percent` of the fleet to be acted on in any
    /// `window`: `floor(percent × fleet_size / 100)` actions, and at least
    /// one, so that a small fleet slows the automation down rather than
    /// stopping it. Needs [`fleet_size`](Self::fleet_size).
    pub fn fleet_percent(mut self, percent: f64, window: Duration) -> Self {
        self.limits.push((Allowance::Percent(percent), window));
        self
    }

    /// The fleet size percentage limits start from; change it later with
    /// [`ActionGovernor::set_fleet_size`].
    pub fn fleet_size(mut self, size: u32) -> Self {
        self.fleet_size = Some(size);
        self
    }

    /// Checks the configuration and builds the governor.
    pub fn build(self) -> Result<ActionGovernor, ConfigError> {
        if self.limits.is_empty() {
            return Err(ConfigError::new(
                "limit",
                "an action governor needs at_most(...) or fleet_percent(...)",
            ));
        }
        let mut limits = Vec::with_capacity(self.limits.len());
        for (allowance, window) in self.limits {
            if window.is_zero() {
                return Err(ConfigError::new(
                    "window",
                    "window must be greater than zero",
                ));
            }
            let name = match allowance {
                Allowance::Count(count) if count == 0 || count > MAX_ACTIONS_PER_WINDOW => {
                    return Err(ConfigError::new(
                        "at_most",
                        format!("at_most must be in 1..={MAX_ACTIONS_PER_WINDOW}, got {count}"),
                    ))
                }
                Allowance::Count(_) => "at_most",
                Allowance::Percent(p) if !(p > 0.0 && p <= 100.0) => {
                    return Err(ConfigError::new(
                        "fleet_percent",
                        format!("fleet_percent must be in (0, 100], got {p}"),
                    ))
                }
                Allowance::Percent(_) => match self.fleet_size {
                    Some(1..=MAX_ACTIONS_PER_WINDOW) => "fleet_percent",
                    size => {
                        return Err(ConfigError::new(
                            "fleet_size",
                            format!(
                                "fleet_percent needs fleet_size in 1..={MAX_ACTIONS_PER_WINDOW}, \
                                 got {size:?}"
                            ),
                        ))
                    }
                },
            };
            limits.push(Limit {
                allowance,
                window,
                name: Arc::from(name),
            });
        }
        let longest = limits.iter().map(|l| l.window).max().unwrap_or_default();
        Ok(ActionGovernor {
            shared: Arc::new(Shared {
                name: self.name,
                limits: limits.into_boxed_slice(),
                longest,
                record: Mutex::new(Record {
                    fleet_size: self.fleet_size.unwrap_or(0),
                    actions: VecDeque::new(),
                    next_id: 0,
                }),
            }),
        })
    }
}

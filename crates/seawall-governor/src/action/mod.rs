//! A governor for automated actions: "at most N per window", counted over
//! a sliding window, shared by every task that acts.

mod builder;

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use seawall_core::names::target;
use tokio::time::Instant;

use crate::error::{QuotaPolicy, RateLimited};

pub use builder::ActionGovernorBuilder;

/// The most actions one limit allows per window, so that the record of
/// recent actions stays small.
pub const MAX_ACTIONS_PER_WINDOW: u32 = 1_000_000;

/// Slows automation down to a pace people can follow: an autoscaler, a
/// deploy tool, a cleanup job. Cheap to clone; clones share the record.
///
/// Each limit allows at most a number of actions in any window of its
/// length: [`at_most`](ActionGovernorBuilder::at_most) a count, or
/// [`fleet_percent`](ActionGovernorBuilder::fleet_percent) a share of a
/// fleet whose size the automation keeps up to date. An action must fit
/// every limit. Unlike a request quota, this is a strict sliding window,
/// not a rate with a burst: shutting down 5 instances now allows the next
/// shutdown only when the first of them is a full window old, so no window
/// ever sees more than the limit.
///
/// [`try_acquire`](ActionGovernor::try_acquire) either records an action
/// and returns its [`ActionPermit`], or says with a
/// [`RateLimited`] when the next action will be allowed. Dropping the
/// permit keeps the action counted: it happened.
/// [`ActionPermit::undo`] takes it back when the action did not happen
/// after all.
///
/// ```
/// use std::time::Duration;
/// use seawall_governor::ActionGovernor;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), seawall_governor::ConfigError> {
/// // Shut down at most 10% of a 50-instance fleet per 10 minutes.
/// let governor = ActionGovernor::builder()
///     .name("scale-in")
///     .fleet_size(50)
///     .fleet_percent(10.0, Duration::from_secs(600))
///     .build()?;
///
/// let mut fleet: Vec<u32> = (0..50).collect();
/// let mut stopped = Vec::new();
/// // The autoscaler wants 8 instances gone, as fast as it may.
/// while stopped.len() < 8 {
///     match governor.try_acquire() {
///         Ok(_permit) => {
///             let instance = fleet.pop().expect("a running instance");
///             stopped.push((instance, tokio::time::Instant::now()));
///         }
///         Err(next) => {
///             // `next` says when, and which limit binds.
///             assert_eq!(next.policy().unwrap().limit(), 5);
///             let wait = seawall_core::Rejection::retry_after(&next).unwrap();
///             tokio::time::sleep(wait).await;
///         }
///     }
/// }
///
/// // Five went at once (10% of 50); the next ones waited until the first
/// // were ten minutes old.
/// let start = stopped[0].1;
/// let times: Vec<u64> = stopped.iter().map(|(_, at)| (*at - start).as_secs()).collect();
/// assert_eq!(times, [0, 0, 0, 0, 0, 600, 600, 600]);
///
/// // A smaller fleet allows fewer: 10% of 42, rounded down.
/// governor.set_fleet_size(fleet.len() as u32);
/// let later = tokio::time::Instant::now() + Duration::from_secs(600);
/// assert_eq!(governor.remaining_at(later), 4);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ActionGovernor {
    shared: Arc<Shared>,
}

/// An action the governor allowed and recorded.
///
/// Dropping it keeps the action counted; [`undo`](ActionPermit::undo)
/// takes it back. The usual rule that a reservation is released on drop
/// is reversed on purpose: an automation that forgets to confirm must not
/// get more actions than allowed.
#[must_use = "the action is counted; call `undo` if it did not happen"]
pub struct ActionPermit {
    shared: Arc<Shared>,
    id: u64,
    granted_at: Instant,
}

struct Shared {
    name: Arc<str>,
    limits: Box<[Limit]>,
    longest: Duration,
    record: Mutex<Record>,
}

struct Limit {
    allowance: Allowance,
    window: Duration,
    name: Arc<str>,
}

#[derive(Debug, Clone, Copy)]
enum Allowance {
    Count(u32),
    Percent(f64),
}

/// Actions of the longest window, oldest first.
struct Record {
    fleet_size: u32,
    actions: VecDeque<(Instant, u64)>,
    next_id: u64,
}

impl ActionGovernor {
    /// Starts configuring a governor.
    pub fn builder() -> ActionGovernorBuilder {
        ActionGovernorBuilder::new()
    }

    /// Records an action now if every limit allows it.
    pub fn try_acquire(&self) -> Result<ActionPermit, RateLimited> {
        self.try_acquire_at(Instant::now())
    }

    /// Records an action at `now` if every limit allows it; otherwise
    /// says how long until one will, and which limit binds. A `now`
    /// earlier than the last recorded action counts as that action's time.
    pub fn try_acquire_at(&self, now: Instant) -> Result<ActionPermit, RateLimited> {
        let shared = &self.shared;
        let mut record = shared.lock();
        let now = record
            .actions
            .back()
            .map_or(now, |&(last, _)| now.max(last));
        while let Some(&(at, _)) = record.actions.front() {
            if at + shared.longest > now {
                break;
            }
            record.actions.pop_front();
        }

        let mut binding: Option<(Duration, &Limit, u32)> = None;
        for limit in shared.limits.iter() {
            let allowed = limit.allowed(record.fleet_size);
            let outside = record
                .actions
                .partition_point(|&(at, _)| at + limit.window <= now);
            let inside = record.actions.len() - outside;
            if inside < allowed as usize {
                continue;
            }
            // The oldest action that must leave the window first.
            let (at, _) = record.actions[outside + inside - allowed as usize];
            let wait = at + limit.window - now;
            if binding.is_none_or(|(longest, _, _)| wait > longest) {
                binding = Some((wait, limit, allowed));
            }
        }
        if let Some((wait, limit, allowed)) = binding {
            tracing::debug!(
                target: target::GOVERNOR,
                name = %shared.name,
                limit = %limit.name,
                retry_after = ?wait,
                "action refused"
            );
            let policy = QuotaPolicy::new(limit.name.clone(), u64::from(allowed), limit.window);
            return Err(RateLimited::new(wait).with_policy(policy));
        }

        let id = record.next_id;
        record.next_id += 1;
        record.actions.push_back((now, id));
        drop(record);
        tracing::debug!(target: target::GOVERNOR, name = %shared.name, "action allowed");
        Ok(ActionPermit {
            shared: shared.clone(),
            id,
            granted_at: now,
        })
    }

    /// Waits until every limit allows an action, then records it.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes records nothing.
    pub async fn acquire(&self) -> ActionPermit {
        loop {
            match self.try_acquire() {
                Ok(permit) => return permit,
                Err(next) => {
                    let wait = seawall_core::Rejection::retry_after(&next);
                    tokio::time::sleep(wait.unwrap_or(Duration::ZERO)).await;
                }
            }
        }
    }

    /// Sets the fleet size that percentage limits apply to, from the next
    /// action on. Actions already recorded stay recorded.
    pub fn set_fleet_size(&self, size: u32) {
        self.shared.lock().fleet_size = size;
    }

    /// The fleet size percentage limits apply to.
    pub fn fleet_size(&self) -> u32 {
        self.shared.lock().fleet_size
    }

    /// How many actions every limit would allow at `now`. Records nothing.
    pub fn remaining_at(&self, now: Instant) -> u32 {
        let record = self.shared.lock();
        self.shared
            .limits
            .iter()
            .map(|limit| {
                let inside = record
                    .actions
                    .iter()
                    .filter(|&&(at, _)| at + limit.window > now)
                    .count();
                limit
                    .allowed(record.fleet_size)
                    .saturating_sub(inside as u32)
            })
            .min()
            .unwrap_or(0)
    }
}

impl ActionPermit {
    /// When the action was recorded.
    pub fn granted_at(&self) -> Instant {
        self.granted_at
    }

    /// Takes the action back: it did not happen, and no limit counts it.
    pub fn undo(self) {
        let mut record = self.shared.lock();
        if let Some(index) = record.actions.iter().position(|&(_, id)| id == self.id) {
            record.actions.remove(index);
        }
    }
}

impl Limit {
    /// Actions allowed per window for a fleet of `fleet_size`.
    fn allowed(&self, fleet_size: u32) -> u32 {
        match self.allowance {
            Allowance::Count(count) => count,
            Allowance::Percent(percent) => {
                // The epsilon keeps 10% of 50 at 5 despite binary fractions.
                let share = (percent * f64::from(fleet_size) / 100.0 + 1e-9).floor();
                (share as u32).clamp(1, MAX_ACTIONS_PER_WINDOW)
            }
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Record> {
        // Every change to the record is whole (a push, a pop, a store), so
        // a panic elsewhere cannot leave it half-written.
        self.record.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for ActionGovernor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let record = self.shared.lock();
        f.debug_struct("ActionGovernor")
            .field("name", &self.shared.name)
            .field("fleet_size", &record.fleet_size)
            .field("recent_actions", &record.actions.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ActionPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActionPermit")
            .field("governor", &self.shared.name)
            .field("granted_at", &self.granted_at)
            .finish()
    }
}

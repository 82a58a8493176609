//! The action governor: strict sliding windows, fleet shares, undo, and a
//! record shared across tasks.

use std::time::Duration;

use seawall_core::rejection::Rejection;
use seawall_governor::{ActionGovernor, ConfigError};
use tokio::time::Instant;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn three_a_minute() -> ActionGovernor {
    ActionGovernor::builder()
        .name("restarts")
        .at_most(3, secs(60))
        .build()
        .unwrap()
}

#[test]
fn at_most_n_in_any_window_strictly() {
    let governor = three_a_minute();
    let start = Instant::now();
    for at in [0, 20, 40] {
        let _permit = governor.try_acquire_at(start + secs(at)).unwrap();
    }
    // Not a rate: the fourth must wait until the first is a minute old.
    let refused = governor.try_acquire_at(start + secs(50)).unwrap_err();
    assert_eq!(refused.retry_after(), Some(secs(10)));
    let policy = refused.policy().unwrap();
    assert_eq!(
        (policy.name(), policy.limit(), policy.window()),
        ("at_most", 3, secs(60))
    );

    let _permit = governor.try_acquire_at(start + secs(60)).unwrap();
    let refused = governor.try_acquire_at(start + secs(60)).unwrap_err();
    assert_eq!(refused.retry_after(), Some(secs(20)));
    assert_eq!(governor.remaining_at(start + secs(100)), 2);
}

#[test]
fn a_share_of_the_fleet_rounds_down_but_allows_one() {
    let governor = ActionGovernor::builder()
        .fleet_size(50)
        .fleet_percent(10.0, secs(600))
        .build()
        .unwrap();
    let start = Instant::now();
    assert_eq!(governor.remaining_at(start), 5);
    governor.set_fleet_size(49);
    assert_eq!(governor.remaining_at(start), 4);
    governor.set_fleet_size(3);
    assert_eq!(governor.remaining_at(start), 1, "at least one");
    assert_eq!(governor.fleet_size(), 3);

    governor.set_fleet_size(50);
    for _ in 0..5 {
        let _permit = governor.try_acquire_at(start).unwrap();
    }
    governor.try_acquire_at(start).unwrap_err();
    // The fleet shrank: fewer are allowed, and the record still counts.
    governor.set_fleet_size(30);
    let refused = governor.try_acquire_at(start + secs(1)).unwrap_err();
    assert_eq!(refused.policy().unwrap().limit(), 3);
    assert_eq!(refused.retry_after(), Some(secs(599)));
}

#[test]
fn every_limit_must_allow_and_the_longest_wait_binds() {
    let governor = ActionGovernor::builder()
        .at_most(2, secs(60))
        .fleet_size(100)
        .fleet_percent(3.0, secs(3_600))
        .build()
        .unwrap();
    let start = Instant::now();
    let _a = governor.try_acquire_at(start).unwrap();
    let _b = governor.try_acquire_at(start).unwrap();
    let refused = governor.try_acquire_at(start).unwrap_err();
    assert_eq!(refused.policy().unwrap().name(), "at_most");
    let _c = governor.try_acquire_at(start + secs(60)).unwrap();

    let refused = governor.try_acquire_at(start + secs(61)).unwrap_err();
    assert_eq!(refused.policy().unwrap().name(), "fleet_percent");
    assert_eq!(refused.retry_after(), Some(secs(3_600 - 61)));
}

#[test]
fn undo_takes_an_action_back_and_dropping_keeps_it() {
    let governor = three_a_minute();
    let start = Instant::now();
    let kept = governor.try_acquire_at(start).unwrap();
    assert_eq!(kept.granted_at(), start);
    drop(kept);
    let undone = governor.try_acquire_at(start).unwrap();
    assert_eq!(governor.remaining_at(start), 1);
    undone.undo();
    assert_eq!(governor.remaining_at(start), 2);
}

#[test]
fn clones_share_the_record() {
    let governor = three_a_minute();
    let other = governor.clone();
    let start = Instant::now();
    for _ in 0..3 {
        let _permit = other.try_acquire_at(start).unwrap();
    }
    governor.try_acquire_at(start).unwrap_err();
}

#[tokio::test(start_paused = true)]
async fn tasks_sharing_a_governor_are_paced_together() {
    let governor = three_a_minute();
    let start = Instant::now();
    let tasks: Vec<_> = (0..7)
        .map(|_| {
            let governor = governor.clone();
            tokio::spawn(async move { governor.acquire().await.granted_at() })
        })
        .collect();
    let mut times = Vec::new();
    for task in tasks {
        times.push((task.await.unwrap() - start).as_secs());
    }
    times.sort_unstable();
    assert_eq!(times, [0, 0, 0, 60, 60, 60, 120]);
}

#[test]
fn the_configuration_is_checked() {
    fn field(error: ConfigError) -> &'static str {
        error.field()
    }
    let none = ActionGovernor::builder().build().unwrap_err();
    assert_eq!(field(none), "limit");
    let zero = ActionGovernor::builder()
        .at_most(0, secs(1))
        .build()
        .unwrap_err();
    assert_eq!(zero.to_string(), "at_most must be in 1..=1000000, got 0");
    let window = ActionGovernor::builder()
        .at_most(1, Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(field(window), "window");
    let percent = ActionGovernor::builder()
        .fleet_size(10)
        .fleet_percent(150.0, secs(1))
        .build()
        .unwrap_err();
    assert_eq!(field(percent), "fleet_percent");
    let nan = ActionGovernor::builder()
        .fleet_size(10)
        .fleet_percent(f64::NAN, secs(1))
        .build()
        .unwrap_err();
    assert_eq!(field(nan), "fleet_percent");
    let fleet = ActionGovernor::builder()
        .fleet_percent(10.0, secs(1))
        .build()
        .unwrap_err();
    assert_eq!(field(fleet), "fleet_size");
}

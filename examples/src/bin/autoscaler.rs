//! An autoscaler's scale-in loop, slowed down by an action governor so that
//! people can follow what it does.
//!
//! The autoscaler wants 12 of its 50 instances gone at once. The governor
//! lets it stop at most 10% of the fleet in any ten minutes, so the
//! shutdowns come in waves an operator can watch and stop. Time is
//! simulated (tokio's paused clock), so the hour-long run takes an instant.

#![allow(clippy::print_stdout)] // an example reports on standard output

use std::time::Duration;

use seawall::governor::ActionGovernor;
use seawall::{BoxError, Rejection};
use tokio::time::Instant;

const FLEET: u32 = 50;
const TO_STOP: usize = 12;
const WINDOW: Duration = Duration::from_secs(600);

fn main() -> Result<(), BoxError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()?
        .block_on(scale_in())
}

async fn scale_in() -> Result<(), BoxError> {
    let governor = ActionGovernor::builder()
        .name("scale-in")
        .fleet_size(FLEET)
        .fleet_percent(10.0, WINDOW)
        .build()?;

    let start = Instant::now();
    let mut running = FLEET;
    let mut stopped = 0;
    println!("scale-in: stop {TO_STOP} of {FLEET} instances, at most 10% per {WINDOW:?}");
    while stopped < TO_STOP {
        match governor.try_acquire() {
            Ok(_permit) => {
                running -= 1;
                stopped += 1;
                governor.set_fleet_size(running);
                let at = start.elapsed().as_secs();
                println!("  t={at:>5}s  stopped instance {stopped:>2}, {running} running");
            }
            Err(refused) => {
                let wait = refused.retry_after().unwrap_or(WINDOW);
                println!(
                    "  t={:>5}s  governor says wait {wait:?}",
                    start.elapsed().as_secs()
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
    println!("done after {:?} of simulated time", start.elapsed());
    Ok(())
}

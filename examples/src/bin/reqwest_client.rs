//! Wraps a `reqwest::Client` in a circuit breaker, points it at a small
//! upstream on loopback that breaks, recovers and then asks for room, and
//! prints what the breaker did.

#![allow(clippy::print_stdout)] // an example reports on standard output

use std::time::Duration;

use seawall::BoxError;
use seawall_examples::reqwest_demo::{self, Call, BUSY_RETRY_AFTER_SECS, FAILURES};
use seawall_examples::upstream::Upstream;

const OPEN: Duration = Duration::from_millis(500);

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let upstream = Upstream::start().await?;
    // A proxy set in the environment must not see loopback traffic.
    let client = reqwest::Client::builder().no_proxy().build()?;
    println!(
        "reqwest::Client behind a circuit breaker, calling {}",
        upstream.url()
    );
    println!("the breaker opens after {FAILURES} failures in a row, for {OPEN:?}");

    let report = reqwest_demo::run(&upstream, client, OPEN).await?;

    println!();
    println!("the upstream is healthy:");
    print_calls(&report.healthy);
    println!();
    println!("the upstream fails with 500:");
    for (call, state) in &report.failing {
        println!("  {call}  (breaker {state})");
    }
    println!();
    println!("the breaker is open: calls fail fast");
    print_calls(&report.refused);
    println!(
        "  => {} of {} calls reached the upstream",
        report.reached_while_open,
        report.refused.len()
    );
    println!();
    println!(
        "the upstream recovers; after {OPEN:?} the breaker is {}:",
        report.before_probe
    );
    println!(
        "  probe: {}  (breaker {})",
        report.probe, report.after_probe
    );
    println!();
    println!("the upstream answers 503 with Retry-After: {BUSY_RETRY_AFTER_SECS}:");
    println!("  {}  (breaker {})", report.busy, report.after_busy);
    println!("  {}", report.busy_refusal);

    let worked = report.reached_while_open == 0
        && matches!(report.busy_refusal, Call::Refused(_))
        && report
            .refused
            .iter()
            .all(|call| matches!(call, Call::Refused(_)));
    if !worked {
        return Err("the breaker did not behave as described".into());
    }
    Ok(())
}

fn print_calls(calls: &[Call]) {
    for call in calls {
        println!("  {call}");
    }
}

//! Runs the example server on a free loopback port, sends it a burst of ten
//! requests and a request that never finishes, and prints what happened.

#![allow(clippy::print_stdout)] // a demo reports on standard output

use seawall::BoxError;
use seawall_examples::app::{HANDLER_TIMEOUT, MAX_IN_FLIGHT, WORK_TIME};
use seawall_examples::demo;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    println!("seawall demo: at most {MAX_IN_FLIGHT} handlers at once, {HANDLER_TIMEOUT:?} each");
    println!();
    println!("10 concurrent requests to /work (each takes {WORK_TIME:?}):");
    let report = demo::run(10).await?;
    for answer in &report.burst {
        let retry = answer
            .retry_after
            .as_deref()
            .map(|s| format!(", retry-after: {s}s"))
            .unwrap_or_default();
        println!(
            "  {} in {:>4} ms{retry}",
            answer.status,
            answer.took.as_millis()
        );
    }
    let ok = report.burst.iter().filter(|a| a.status == 200).count();
    let refused = report.burst.iter().filter(|a| a.status == 503).count();
    println!("  => {ok} served, {refused} refused at once by the bulkhead");
    println!();
    println!("1 request to /stuck (never finishes on its own):");
    println!(
        "  {} in {} ms, cut off by the timeout",
        report.stuck.status,
        report.stuck.took.as_millis()
    );
    println!();
    println!("permits still held afterwards: {}", report.in_flight_after);
    Ok(())
}

//! The overload experiment: how a server behaves when offered more than it
//! can serve, bare, behind tower's load shedding, and behind seawall's.
//!
//! Run on demand, never in CI (which only compiles it):
//!
//! ```text
//! cargo bench -p seawall-benches --bench overload
//! ```
//!
//! This process is the server: an axum router on 127.0.0.1 on a runtime with
//! one worker thread, pinned with `taskset` to one core. Its handler calls a
//! dependency that serves `OVERLOAD_PERMITS` calls at once (default 8) and
//! takes `OVERLOAD_SERVICE_MS` each (default 10). The load generator is
//! this same binary started again as a child process, pinned to the other
//! core (see `generator.rs`).
//!
//! 1. Capacity: a closed loop against the bare server measures the
//!    successes per second it sustains.
//! 2. For each round, for each mode (bare, tower, seawall) on a fresh
//!    server: an open loop offers 0.5, 1, 2, 4 and 10 times the capacity,
//!    then 0.5 again, each for `OVERLOAD_PHASE_MS` (default 2,000).
//! 3. For each mode and load, the median over the rounds of: goodput over
//!    capacity, p50/p99 of successes, share shed and p99 of the refusals,
//!    server CPU, and the time latency takes to recover after the step
//!    down (see `report.rs`).
//!
//! Environment: `OVERLOAD_ROUNDS` (3), `OVERLOAD_PHASE_MS` (2000),
//! `OVERLOAD_MODES` (`bare,tower,seawall`), `OVERLOAD_PERMITS` (8),
//! `OVERLOAD_SERVICE_MS` (10), `OVERLOAD_OBJECTIVE_MS` (100),
//! `OVERLOAD_CONNECTIONS` (128), `OVERLOAD_CAPACITY_MS` (2000),
//! `OVERLOAD_GRACE_MS` (1000); `OVERLOAD_TRACE` names a directory for a
//! trace of each run (see `trace.rs`). The defaults take
//! about two minutes; `OVERLOAD_ROUNDS=1 OVERLOAD_PHASE_MS=1000` about
//! twenty-five seconds.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a bench program reports on the terminal"
)]

mod affinity;
mod config;
mod generator;
mod report;
mod server;
mod trace;

use std::io::{BufRead, BufReader};
use std::process::{ExitCode, Stdio};

use config::{Config, LOADS};
use report::{Record, Run};
use server::{Mode, Server};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(generator::ROLE) {
        return generator::main(&args[2..]);
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // should not start a two-minute experiment.
    if !args.iter().any(|a| a == "--bench") {
        println!("overload: run with `cargo bench -p seawall-benches --bench overload`");
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("overload: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let config = Config::from_env()?;
    let pinning = affinity::Pinning::set_up();
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;

    println!(
        "overload experiment: dependency of {} permits x {} ms; {}; {} round(s) of {:?}, {} ms per load; about {} s",
        config.permits,
        config.service_time.as_millis(),
        pinning.describe(),
        config.rounds,
        config.modes.iter().map(|m| m.name()).collect::<Vec<_>>(),
        config.phase.as_millis(),
        config.estimate().as_secs(),
    );

    println!("load average before: {}", load_average());
    let capacity = measure_capacity(&config, &pinning, &exe)?;
    println!(
        "capacity: {capacity:.0} requests/s (closed loop, {} connections, {} ms after {} ms warm-up; ideal {:.0})",
        capacity_connections(&config),
        config.capacity_time.as_millis(),
        (config.capacity_time / 4).as_millis(),
        config.permits as f64 / config.service_time.as_secs_f64(),
    );
    if capacity <= 0.0 {
        return Err("the server answered nothing in the capacity run".to_owned());
    }

    let rates: Vec<f64> = LOADS.iter().map(|l| l * capacity).collect();
    let mut figures: Vec<Vec<report::Figures>> = vec![Vec::new(); config.modes.len()];
    for round in 0..config.rounds {
        for (m, &mode) in config.modes.iter().enumerate() {
            eprintln!(
                "overload: round {} of {}, {}",
                round + 1,
                config.rounds,
                mode.name()
            );
            let stem = format!("{}-{}", mode.name(), round + 1);
            let run = open_loop(mode, &config, &pinning, &exe, &rates, &stem)?;
            figures[m].push(report::analyse(&run, &config, capacity));
        }
    }
    for (m, &mode) in config.modes.iter().enumerate() {
        print!("{}", report::table(mode, &config, capacity, &figures[m]));
    }
    println!("{}", report::legend(&config));
    println!("load average after: {}", load_average());
    Ok(())
}

/// The machine's load averages, to judge how noisy the run was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn capacity_connections(config: &Config) -> usize {
    config.permits * 4
}

fn measure_capacity(
    config: &Config,
    pinning: &affinity::Pinning,
    exe: &std::path::Path,
) -> Result<f64, String> {
    let server = Server::start(Mode::Bare, config.permits, config.service_time)?;
    let args = generator::capacity_args(
        server.addr,
        capacity_connections(config),
        config.capacity_time / 4,
        config.capacity_time,
    );
    let output = pinning
        .generator_command(exe, &args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("starting the generator: {e}"));
    server.stop();
    let output = output?;
    if !output.status.success() {
        return Err(format!("the capacity generator failed: {}", output.status));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("CAPACITY ")?.trim().parse::<f64>().ok())
        .ok_or_else(|| "the capacity generator printed no figure".to_owned())
}

fn open_loop(
    mode: Mode,
    config: &Config,
    pinning: &affinity::Pinning,
    exe: &std::path::Path,
    rates: &[f64],
    stem: &str,
) -> Result<Run, String> {
    let server = Server::start(mode, config.permits, config.service_time)?;
    let args = generator::open_args(
        server.addr,
        config.connections,
        config.phase,
        config.grace,
        rates,
    );
    let command = pinning.generator_command(exe, &args);
    let result = match trace::directory() {
        None => drive(&server, command, None),
        Some(dir) => {
            let timeline = trace::Timeline::new();
            let result = std::thread::scope(|scope| {
                scope.spawn(|| timeline.sample(&server));
                let result = drive(&server, command, Some(&timeline));
                timeline.stop();
                result
            });
            result.and_then(|run| timeline.write(&dir, stem, &run.records).map(|()| run))
        }
    };
    server.stop();
    result
}

/// Runs the generator and reads its stdout: the server's CPU time is taken
/// at each phase marker as it arrives, the records at the end.
fn drive(
    server: &Server,
    mut command: std::process::Command,
    timeline: Option<&trace::Timeline>,
) -> Result<Run, String> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting the generator: {e}"))?;
    let stdout = child.stdout.take().ok_or("the generator has no stdout")?;
    let mut cpu = vec![None; LOADS.len() + 1];
    let mut limits = vec![None; LOADS.len() + 1];
    let mut records = Vec::new();
    let mut done = false;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading the generator: {e}"))?;
        if let Some(record) = Record::parse(&line) {
            records.push(record);
        } else if let Some(i) = line.strip_prefix("PHASE ") {
            if let Some(i) = i.trim().parse::<usize>().ok().filter(|&i| i < LOADS.len()) {
                cpu[i] = server.cpu_time();
                limits[i] = server.limit();
                if let Some(timeline) = timeline {
                    timeline.phase(i);
                }
            }
        } else if line == "END" {
            cpu[LOADS.len()] = server.cpu_time();
            limits[LOADS.len()] = server.limit();
        } else if line.starts_with("DONE") {
            done = true;
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for the generator: {e}"))?;
    if !status.success() || !done {
        return Err(format!(
            "the generator failed ({status}) after {} records",
            records.len()
        ));
    }
    Ok(Run {
        records,
        cpu,
        limits,
    })
}

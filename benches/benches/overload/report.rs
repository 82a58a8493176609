//! Turning the generator's records into the figures, and printing them.

use std::fmt::Write as _;
use std::time::Duration;

use crate::config::{Config, LOADS};
use crate::generator::{TRANSPORT_ERROR, UNANSWERED};
use crate::server::Mode;

/// One request, as the generator saw it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record {
    /// The load phase it was sent in.
    pub(crate) phase: usize,
    /// When it was due, from the start of the run.
    pub(crate) due: Duration,
    /// How late the generator was in starting it.
    pub(crate) lag: Duration,
    /// From when it was due to the end of its answer (or to when the
    /// generator gave up on it).
    pub(crate) latency: Duration,
    /// The HTTP status, or [`UNANSWERED`], or [`TRANSPORT_ERROR`].
    pub(crate) status: u16,
}

impl Record {
    /// Parses an `R <phase> <due_us> <lag_us> <latency_us> <status>` line.
    pub(crate) fn parse(line: &str) -> Option<Record> {
        let mut fields = line.strip_prefix("R ")?.split_whitespace();
        let mut next = || fields.next()?.parse::<u64>().ok();
        Some(Record {
            phase: usize::try_from(next()?).ok()?,
            due: Duration::from_micros(next()?),
            lag: Duration::from_micros(next()?),
            latency: Duration::from_micros(next()?),
            status: u16::try_from(next()?).ok()?,
        })
    }

    fn ok(&self) -> bool {
        self.status == 200
    }

    fn shed(&self) -> bool {
        self.status == 503
    }
}

/// One mode's run through every load.
#[derive(Debug)]
pub(crate) struct Run {
    /// The requests.
    pub(crate) records: Vec<Record>,
    /// The server thread's CPU time when each phase started, and when the
    /// last one ended (one more entry than there are phases).
    pub(crate) cpu: Vec<Option<Duration>>,
    /// The mode's concurrency limit at the same moments.
    pub(crate) limits: Vec<Option<usize>>,
}

/// The figures for one load of one run.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PhaseFigures {
    /// Successes within the objective per second, over the capacity.
    goodput: f64,
    ok_p50: Option<Duration>,
    ok_p99: Option<Duration>,
    /// Refused with `503`, over the requests sent.
    shed: f64,
    shed_p99: Option<Duration>,
    /// Neither success nor refusal (no answer in time, a failed connection,
    /// another status), over the requests sent.
    failed: f64,
    /// The 99th percentile of the generator's lateness in sending.
    lag_p99: Option<Duration>,
    /// The server thread's CPU time over the phase's wall time.
    busy: Option<f64>,
    /// Server CPU per answer in the phase.
    cpu_per_answer: Option<Duration>,
    /// Marginal server CPU per refusal: the CPU this phase used beyond the
    /// previous one, over the refusals it had beyond the previous one; only
    /// where successes stayed within 5% and refusals grew by 2,000 or more.
    cpu_per_shed: Option<Duration>,
    cpu: Option<Duration>,
    oks: usize,
    sheds: usize,
    /// The concurrency limit when the phase ended.
    limit: Option<usize>,
}

/// How long latency took to come back to normal after the step down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Recovery {
    /// Normal from this far into the last phase on.
    After(Duration),
    /// Still not normal at the end of the last phase.
    NotWithin(Duration),
}

impl std::fmt::Display for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Recovery::After(d) => write!(f, "{} ms", d.as_millis()),
            Recovery::NotWithin(d) => write!(f, "not within {} ms", d.as_millis()),
        }
    }
}

/// Everything computed from one run.
#[derive(Debug, Clone)]
pub(crate) struct Figures {
    phases: Vec<PhaseFigures>,
    /// The p99 of successes in the first (unloaded) phase.
    unloaded_p99: Option<Duration>,
    recovery: Recovery,
}

fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    // Nearest rank.
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

fn sorted(
    records: &[&Record],
    keep: impl Fn(&Record) -> bool,
    by: impl Fn(&Record) -> Duration,
) -> Vec<Duration> {
    let mut v: Vec<Duration> = records.iter().filter(|r| keep(r)).map(|r| by(r)).collect();
    v.sort_unstable();
    v
}

/// Computes the figures of one run.
pub(crate) fn analyse(run: &Run, config: &Config, capacity: f64) -> Figures {
    let phase_secs = config.phase.as_secs_f64();
    let by_phase: Vec<Vec<&Record>> = (0..LOADS.len())
        .map(|i| run.records.iter().filter(|r| r.phase == i).collect())
        .collect();
    let cpu_of = |i: usize| match (
        run.cpu.get(i).copied().flatten(),
        run.cpu.get(i + 1).copied().flatten(),
    ) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let phases: Vec<PhaseFigures> = by_phase
        .iter()
        .enumerate()
        .map(|(i, records)| {
            let sent = records.len().max(1) as f64;
            let ok = sorted(records, Record::ok, |r| r.latency);
            let shed = sorted(records, Record::shed, |r| r.latency);
            let lag = sorted(records, |_| true, |r| r.lag);
            let good = ok.iter().filter(|&&l| l <= config.objective).count();
            let failed = records.len() - ok.len() - shed.len();
            let cpu = cpu_of(i);
            let answered = ok.len() + shed.len();
            PhaseFigures {
                goodput: good as f64 / phase_secs / capacity,
                ok_p50: percentile(&ok, 0.50),
                ok_p99: percentile(&ok, 0.99),
                shed: shed.len() as f64 / sent,
                shed_p99: percentile(&shed, 0.99),
                failed: failed as f64 / sent,
                lag_p99: percentile(&lag, 0.99),
                busy: cpu.map(|c| c.as_secs_f64() / phase_secs),
                cpu_per_answer: cpu
                    .filter(|_| answered > 0)
                    .map(|c| c / u32::try_from(answered).unwrap_or(u32::MAX)),
                cpu_per_shed: None,
                cpu,
                oks: ok.len(),
                sheds: shed.len(),
                limit: run.limits.get(i + 1).copied().flatten(),
            }
        })
        .collect();
    let mut phases = phases;
    for i in 1..phases.len() {
        let (before, now) = (phases[i - 1], phases[i]);
        let more_sheds = now.sheds.saturating_sub(before.sheds);
        let steady = now.oks.abs_diff(before.oks) * 20 <= before.oks.max(1);
        if let (Some(a), Some(b), true, true) = (before.cpu, now.cpu, more_sheds >= 2_000, steady) {
            phases[i].cpu_per_shed =
                Some(b.saturating_sub(a) / u32::try_from(more_sheds).unwrap_or(u32::MAX));
        }
    }

    let unloaded_p99 = phases[0].ok_p99;
    let recovery = recovery(&by_phase[LOADS.len() - 1], unloaded_p99, config);
    Figures {
        phases,
        unloaded_p99,
        recovery,
    }
}

/// A request in the last phase is normal when it succeeded within twice
/// the unloaded p99. Latency has recovered at the due time of the first
/// request after the last abnormal one; if the very last request is
/// abnormal, it has not recovered within the phase.
fn recovery(records: &[&Record], unloaded_p99: Option<Duration>, config: &Config) -> Recovery {
    let Some(limit) = unloaded_p99.map(|p| p * 2) else {
        return Recovery::NotWithin(config.phase);
    };
    let phase_start = config.phase * (LOADS.len() - 1) as u32;
    let mut in_order: Vec<&Record> = records.to_vec();
    in_order.sort_by_key(|r| r.due);
    let normal = |r: &Record| r.ok() && r.latency <= limit;
    match in_order.iter().rposition(|r| !normal(r)) {
        None => Recovery::After(Duration::ZERO),
        Some(last) => match in_order.get(last + 1) {
            Some(next) => Recovery::After(next.due.saturating_sub(phase_start)),
            None => Recovery::NotWithin(config.phase),
        },
    }
}

fn median<T: PartialOrd + Copy>(mut values: Vec<T>) -> Option<T> {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    values.get(values.len().checked_sub(1)? / 2).copied()
}

fn ms(d: Option<Duration>) -> String {
    match d {
        None => "-".to_owned(),
        Some(d) if d < Duration::from_millis(10) => format!("{:.2}", d.as_secs_f64() * 1e3),
        Some(d) => format!("{:.0}", d.as_secs_f64() * 1e3),
    }
}

fn us(d: Option<Duration>) -> String {
    d.map_or_else(
        || "-".to_owned(),
        |d| format!("{:.0}", d.as_secs_f64() * 1e6),
    )
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |x| format!("{:.1}%", x * 100.0))
}

/// The table for one mode: for each load, the median over the rounds of
/// each figure (the lower median when the number of rounds is even).
pub(crate) fn table(mode: Mode, config: &Config, capacity: f64, rounds: &[Figures]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n== {}: {}",
        mode.name(),
        mode.describe(config.permits)
    );
    let _ = writeln!(
        out,
        "{:>5} {:>7} {:>8} {:>7} {:>7} {:>6} {:>8} {:>6} {:>6} {:>8} {:>8} {:>7} {:>5}",
        "load",
        "rps",
        "goodput",
        "ok p50",
        "ok p99",
        "shed",
        "shed p99",
        "failed",
        "srvCPU",
        "CPU/ans",
        "CPU/shed",
        "lag p99",
        "limit"
    );
    let _ = writeln!(
        out,
        "{:>5} {:>7} {:>8} {:>7} {:>7} {:>6} {:>8} {:>6} {:>6} {:>8} {:>8} {:>7} {:>5}",
        "x cap", "offered", "/cap", "ms", "ms", "", "ms", "", "busy", "us", "us", "ms", "end"
    );
    for (i, load) in LOADS.iter().enumerate() {
        let pick = |f: &dyn Fn(&PhaseFigures) -> Option<f64>| {
            median(rounds.iter().filter_map(|r| f(&r.phases[i])).collect())
        };
        let pick_d = |f: &dyn Fn(&PhaseFigures) -> Option<Duration>| {
            median(rounds.iter().filter_map(|r| f(&r.phases[i])).collect())
        };
        let _ = writeln!(
            out,
            "{:>5} {:>7.0} {:>8} {:>7} {:>7} {:>6} {:>8} {:>6} {:>6} {:>8} {:>8} {:>7} {:>5}",
            format!("{load}x"),
            load * capacity,
            pct(pick(&|p| Some(p.goodput))),
            ms(pick_d(&|p| p.ok_p50)),
            ms(pick_d(&|p| p.ok_p99)),
            pct(pick(&|p| Some(p.shed))),
            ms(pick_d(&|p| p.shed_p99)),
            pct(pick(&|p| Some(p.failed))),
            pct(pick(&|p| p.busy)),
            us(pick_d(&|p| p.cpu_per_answer)),
            us(pick_d(&|p| p.cpu_per_shed)),
            ms(pick_d(&|p| p.lag_p99)),
            median(rounds.iter().filter_map(|r| r.phases[i].limit).collect())
                .map_or_else(|| "-".to_owned(), |l| l.to_string()),
        );
    }
    let unloaded = median(rounds.iter().filter_map(|r| r.unloaded_p99).collect());
    let recoveries: Vec<String> = rounds.iter().map(|r| r.recovery.to_string()).collect();
    let _ = writeln!(
        out,
        "recovery after the step down to 0.5x (every request due from then on a success within 2 x unloaded p99 = 2 x {} ms): median {}; per round: {}",
        ms(unloaded),
        median(rounds.iter().map(|r| r.recovery).collect()).map_or_else(|| "-".to_owned(), |r| r.to_string()),
        recoveries.join(", "),
    );
    // The p99 target is a ratio, and the table's whole milliseconds can
    // hide which side of it a run fell on.
    let ratios: Vec<String> = LOADS
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, load)| {
            let per_round: Vec<String> = rounds
                .iter()
                .map(|r| match (r.phases[i].ok_p99, r.unloaded_p99) {
                    (Some(p99), Some(unloaded)) if !unloaded.is_zero() => {
                        format!("{:.2}", p99.as_secs_f64() / unloaded.as_secs_f64())
                    }
                    _ => "-".to_owned(),
                })
                .collect();
            format!("{load}x {}", per_round.join("/"))
        })
        .collect();
    let _ = writeln!(
        out,
        "p99 of successes over the unloaded p99, per load, per round: {}",
        ratios.join("  ")
    );
    let goodputs: Vec<String> = rounds
        .iter()
        .map(|r| {
            let g: Vec<String> = r
                .phases
                .iter()
                .map(|p| format!("{:.0}", p.goodput * 100.0))
                .collect();
            g.join("/")
        })
        .collect();
    let _ = writeln!(
        out,
        "goodput % per load, per round: {}",
        goodputs.join("  ")
    );
    out
}

/// The legend printed once under the tables.
pub(crate) fn legend(config: &Config) -> String {
    format!(
        "\nload: offered rate as a multiple of the measured capacity; goodput: successes (200) within the {} ms objective per second, over capacity;\n\
         ok p50/p99: latency of successes, from when each request was due; shed: share answered 503; shed p99: latency of those answers;\n\
         failed: share with no answer before the generator gave up ({} ms after the last phase), a failed connection, or another status;\n\
         srvCPU busy: server thread CPU over the phase's wall time; CPU/ans: server CPU per answer; CPU/shed: marginal, (phase CPU - previous phase CPU) / (refusals - previous refusals), shown where successes moved < 5% and refusals grew >= 2,000;\n\
         limit end: the concurrency limit in force when the phase ended (tower's is set by hand, seawall's learned);\n\
         lag p99: how late the generator started requests (its own overhead; should stay well under the latencies). Status codes {UNANSWERED} and {TRANSPORT_ERROR} in the raw records are 'no answer' and 'connection failed'.",
        config.objective.as_millis(),
        config.grace.as_millis(),
    )
}

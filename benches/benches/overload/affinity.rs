//! Keeping the server and the generator on separate cores with `taskset`,
//! and reading how much CPU a thread has used from `/proc`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Where the two processes run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pinning {
    /// The core the server process (this one) is pinned to, if pinned.
    pub(crate) server: Option<usize>,
    /// The core the generator process is pinned to, if pinned.
    pub(crate) generator: Option<usize>,
}

impl Pinning {
    /// Pins this process, and every thread it starts later, to the first
    /// core it may run on, and picks the second one for the generator.
    ///
    /// Falls back to running both unpinned, with a warning on stderr, when
    /// `taskset` is missing or fails, or when fewer than two cores are
    /// available.
    pub(crate) fn set_up() -> Self {
        let unpinned = Self {
            server: None,
            generator: None,
        };
        let pid = std::process::id().to_string();
        let listed = match Command::new("taskset").args(["-c", "-p", &pid]).output() {
            Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
            Ok(out) => {
                warn(&format!(
                    "`taskset -c -p` failed ({}); server and generator run unpinned",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
                return unpinned;
            }
            Err(e) => {
                warn(&format!(
                    "`taskset` is not available ({e}); server and generator run unpinned \
                     and share the cores"
                ));
                return unpinned;
            }
        };
        let cores = listed
            .rsplit(':')
            .next()
            .map(parse_cpu_list)
            .unwrap_or_default();
        let [server, generator, ..] = cores[..] else {
            warn(&format!(
                "fewer than two cores available ({}); server and generator run unpinned",
                listed.trim()
            ));
            return unpinned;
        };
        // `-a`: every thread of the process; threads started later inherit
        // the mask from the main thread.
        let pinned = Command::new("taskset")
            .args(["-a", "-c", "-p", &server.to_string(), &pid])
            .output();
        match pinned {
            Ok(out) if out.status.success() => Self {
                server: Some(server),
                generator: Some(generator),
            },
            Ok(out) => {
                warn(&format!(
                    "could not pin the server ({}); running unpinned",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
                unpinned
            }
            Err(e) => {
                warn(&format!("could not pin the server ({e}); running unpinned"));
                unpinned
            }
        }
    }

    /// A command that runs `exe` with `args`, pinned to the generator's core
    /// when there is one.
    pub(crate) fn generator_command(&self, exe: &Path, args: &[String]) -> Command {
        match self.generator {
            Some(core) => {
                let mut command = Command::new("taskset");
                command.arg("-c").arg(core.to_string()).arg(exe).args(args);
                command
            }
            None => {
                let mut command = Command::new(exe);
                command.args(args);
                command
            }
        }
    }

    /// One line for the report's header.
    pub(crate) fn describe(&self) -> String {
        match (self.server, self.generator) {
            (Some(s), Some(g)) => format!("server pinned to core {s}, generator to core {g}"),
            _ => {
                "UNPINNED: server and generator share the cores (see the warning above)".to_owned()
            }
        }
    }
}

fn warn(message: &str) {
    eprintln!("overload: warning: {message}");
}

/// Parses a Linux CPU list such as `0,2-3`.
fn parse_cpu_list(list: &str) -> Vec<usize> {
    let mut cores = Vec::new();
    for part in list.trim().split(',') {
        let mut ends = part.trim().splitn(2, '-');
        let first = ends.next().and_then(|n| n.trim().parse::<usize>().ok());
        let last = ends.next().and_then(|n| n.trim().parse::<usize>().ok());
        match (first, last) {
            (Some(a), Some(b)) if a <= b => cores.extend(a..=b),
            (Some(a), None) => cores.push(a),
            _ => {}
        }
    }
    cores
}

/// The `/proc` directory of the calling thread, so that another thread can
/// read its CPU time later.
pub(crate) fn this_thread() -> Option<PathBuf> {
    // `/proc/thread-self` is a link to `<pid>/task/<tid>`, relative to /proc.
    let target = std::fs::read_link("/proc/thread-self").ok()?;
    Some(Path::new("/proc").join(target))
}

/// CPU time a thread has used, user and system: nanoseconds from
/// `schedstat` where the kernel keeps it, else clock ticks from `stat`.
pub(crate) fn cpu_time(thread: &Path) -> Option<Duration> {
    if let Ok(text) = std::fs::read_to_string(thread.join("schedstat")) {
        if let Some(ns) = text
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<u64>().ok())
        {
            if ns > 0 {
                return Some(Duration::from_nanos(ns));
            }
        }
    }
    let stat = std::fs::read_to_string(thread.join("stat")).ok()?;
    // The command name (field 2) may hold spaces; count from after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, so 12 and 13
    // after the name; clock ticks are 1/100 s on Linux (USER_HZ).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

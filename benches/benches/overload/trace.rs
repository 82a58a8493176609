//! An optional trace of a run, for finding where a figure comes from:
//! with `OVERLOAD_TRACE` set to a directory, each mode's run writes its
//! requests and a timeline of its concurrency limit there.
//!
//! `<mode>-<round>.requests`: `phase due_us latency_us status`, one line
//! per request, `due_us` from the start of the run.
//!
//! `<mode>-<round>.limits`: `t_us limit in_flight`, sampled every
//! millisecond, and `phase <i> <t_us>` where each phase's marker arrived.
//! Its clock starts when the generator does, so it leads the requests'
//! clock by the generator's start-up (a few milliseconds).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::report::Record;
use crate::server::Server;

/// Where traces go, if anywhere.
pub(crate) fn directory() -> Option<PathBuf> {
    std::env::var_os("OVERLOAD_TRACE").map(PathBuf::from)
}

/// A timeline of one server's limit, filled by a sampling thread.
#[derive(Debug)]
pub(crate) struct Timeline {
    start: Instant,
    lines: Mutex<String>,
    stop: AtomicBool,
}

impl Timeline {
    #[allow(
        clippy::disallowed_methods,
        reason = "the timeline is taken on a plain thread, on the real clock"
    )]
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            lines: Mutex::new(String::new()),
            stop: AtomicBool::new(false),
        }
    }

    /// Samples `server` every millisecond until [`Timeline::stop`].
    #[allow(
        clippy::disallowed_methods,
        reason = "a plain sampling thread, outside any runtime"
    )]
    pub(crate) fn sample(&self, server: &Server) {
        while !self.stop.load(Ordering::Relaxed) {
            if let (Some(limit), Some(in_flight)) = (server.limit(), server.in_flight()) {
                self.push(format_args!("{limit} {in_flight}"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Notes that phase `index` began now.
    pub(crate) fn phase(&self, index: usize) {
        let t = self.start.elapsed().as_micros();
        if let Ok(mut lines) = self.lines.lock() {
            let _ = writeln!(lines, "phase {index} {t}");
        }
    }

    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    fn push(&self, what: std::fmt::Arguments<'_>) {
        let t = self.start.elapsed().as_micros();
        if let Ok(mut lines) = self.lines.lock() {
            let _ = writeln!(lines, "{t} {what}");
        }
    }

    /// Writes the timeline and `records` as `<stem>.limits` and
    /// `<stem>.requests` in `dir`.
    pub(crate) fn write(&self, dir: &Path, stem: &str, records: &[Record]) -> Result<(), String> {
        let mut requests = String::new();
        for r in records {
            let _ = writeln!(
                requests,
                "{} {} {} {}",
                r.phase,
                r.due.as_micros(),
                r.latency.as_micros(),
                r.status
            );
        }
        let limits = self.lines.lock().map(|l| l.clone()).unwrap_or_default();
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        for (ext, text) in [("limits", limits), ("requests", requests)] {
            let path = dir.join(format!("{stem}.{ext}"));
            std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
        Ok(())
    }
}

//! Test-only support shared by the seawall workspace's tests; never
//! published.
//!
//! The crates' integration tests assert what operators see, so they need
//! somewhere to keep it:
//!
//! - [`recorder::TestRecorder`] is a `metrics` recorder that keeps every
//!   counter and gauge, read back by series name.
//! - [`capture::Capture`] is a `tracing` subscriber that keeps every event,
//!   read back by level, target and fields.
//! - [`service::Probe`] is an always-ready inner service that counts its
//!   polls and calls, and [`service::Broken`] an inner service's own error,
//!   for the contract tests.
//!
//! A test binary that asserts events still installs its capture before it
//! reaches any event site (see `docs/ARCHITECTURE.md`).
//!
//! ```
//! use seawall_test_support::capture::Capture;
//! use seawall_test_support::recorder::TestRecorder;
//!
//! let capture = Capture::default();
//! let _guard = capture.install();
//! let recorder = TestRecorder::default();
//! metrics::with_local_recorder(&recorder, || {
//!     metrics::counter!("requests_total", "name" => "api").increment(2);
//!     tracing::debug!(target: "example", name = "api", "counted");
//! });
//!
//! assert_eq!(recorder.counter("requests_total{name=api}"), 2);
//! let counted = capture.find("counted");
//! assert_eq!(counted[0].field("name"), Some("api"));
//! ```

pub mod capture;
pub mod recorder;
pub mod service;

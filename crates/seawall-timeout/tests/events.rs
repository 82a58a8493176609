//! The trace events of a timeout.
//!
//! One test in its own binary: tracing caches whether a callsite is enabled,
//! and a test thread with no subscriber that reaches the callsite while
//! another thread installs one can leave it cached as disabled. Alone here,
//! the events are seen every time.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seawall_core::Deadline;
use seawall_timeout::TimeoutLayer;
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower_test::{assert_request_eq, mock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};

#[test]
fn each_timeout_logs_a_trace_event_with_its_fields() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();

    runtime.block_on(ready_then_response_timeout());
    let events = capture.take();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e.level == Level::TRACE));

    let ready = &events[0].fields;
    assert_eq!(ready["message"], "timed out");
    assert_eq!(ready["phase"], "ready");
    assert_eq!(ready["limit"], "50ms");
    assert_eq!(ready["by_deadline"], "false");
    assert_eq!(ready["name"], "orders");

    let response = &events[1].fields;
    assert_eq!(response["phase"], "response");
    assert_eq!(response["limit"], "100ms");
    assert_eq!(response["by_deadline"], "false");

    runtime.block_on(deadline_timeout());
    let events = capture.take();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].fields["by_deadline"], "true");
    assert_eq!(events[0].fields["limit"], "25ms");
    assert_eq!(events[0].fields["name"], "timeout");

    // An answered call logs nothing.
    runtime.block_on(answered_call());
    assert!(capture.take().is_empty());
}

async fn ready_then_response_timeout() {
    let layer = TimeoutLayer::builder()
        .timeout(ms(100))
        .ready_timeout(ms(50))
        .name("orders")
        .build()
        .unwrap();
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(layer);

    handle.allow(0);
    assert_pending!(service.poll_ready());
    advance(ms(50)).await;
    assert_ready_err!(service.poll_ready());

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("slow"));
    let _unanswered = assert_request_eq!(handle, "slow");
    assert_pending!(response.poll());
    advance(ms(100)).await;
    assert_ready_err!(response.poll());
}

async fn deadline_timeout() {
    let layer = TimeoutLayer::builder()
        .timeout(ms(100))
        .deadline_from(|request: &Option<Deadline>| *request)
        .build()
        .unwrap();
    let (mut service, mut handle) = mock::spawn_layer::<Option<Deadline>, (), _>(layer);

    let deadline = Some(Deadline::after(ms(25)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(deadline));
    let _unanswered = assert_request_eq!(handle, deadline);
    assert_pending!(response.poll());
    advance(ms(25)).await;
    assert_ready_err!(response.poll());
}

async fn answered_call() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(TimeoutLayer::new(ms(100)));
    assert_ready_ok!(service.poll_ready());
    let response = service.call("quick");
    assert_request_eq!(handle, "quick").send_response("ok");
    response.await.unwrap();
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// One captured event under seawall's timeout target.
#[derive(Debug)]
struct Captured {
    level: Level,
    fields: BTreeMap<String, String>,
}

/// A subscriber that keeps the events of `seawall::timeout`.
#[derive(Debug, Clone, Default)]
struct Capture {
    events: Arc<Mutex<Vec<Captured>>>,
}

impl Capture {
    fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        if event.metadata().target() != "seawall::timeout" {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.events.lock().unwrap().push(Captured {
            level: *event.metadata().level(),
            fields: fields.0,
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

//! The health endpoint: the registry served as an
//! `application/health+json` document.

use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use seawall_core::health::{ComponentHealth, HealthRegistry, Status, Value};
use tower_service::Service;

use crate::{json, rfc3339, Drain, Liveness};

/// The media type of health documents.
pub const HEALTH_JSON: &str = "application/health+json";

/// A service that answers every request with a health document, in the
/// shape of the IETF draft *Health Check Response Format for HTTP APIs*
/// (draft-inadarei-api-health-check).
///
/// Two kinds, built by two constructors, answer two different questions:
///
/// - [`readiness`](HealthService::readiness): should this instance get new
///   work? It fails while the instance drains, or while a component
///   registered as [critical](seawall_core::health::Component::critical)
///   reports `fail`. A failing component that is not critical makes it
///   `warn`.
/// - [`liveness`](HealthService::liveness): is the process broken? It
///   fails only when the application said so through [`Liveness`]; it never
///   looks at the components.
///
/// The answer is `200 OK` for `pass` and `warn`, `503 Service Unavailable`
/// for `fail`, with `Content-Type: application/health+json` and
/// `Cache-Control: no-store`. The request is not read: mount the service at
/// any path, with any method.
///
/// # Document
///
/// ```text
/// {"status":"warn","version":"1.4.2","serviceId":"orders",
///  "checks":{
///   "drain:draining":[{"componentType":"handshake","observedValue":false,
///                      "status":"pass","time":"2026-01-05T10:00:00Z"}],
///   "orders-db:in_flight":[{"componentType":"bulkhead","observedValue":16,
///                           "status":"warn","time":"2026-01-05T10:00:00Z"}]}}
/// ```
///
/// Each check key is `<component name>:<observation>`, one per observed
/// value (a component with none gets the key `<component name>`), and holds
/// an array of objects with the component's kind, the value, the
/// component's status and the time of the reading (RFC 3339, UTC, whole
/// seconds). The readiness document also reports `drain:draining` and
/// `drain:in_flight`. `version` and `serviceId` are written only when set.
/// With [`Details::Summary`] the document has only `status`, `version` and
/// `serviceId`, for endpoints that untrusted callers can reach.
#[derive(Clone)]
pub struct HealthService {
    probe: Probe,
    version: Option<Arc<str>>,
    service_id: Option<Arc<str>>,
    details: Details,
}

/// How much a health document tells; see [`HealthService::details`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Details {
    /// Status, version, service id and every check.
    #[default]
    Full,
    /// Status, version and service id only.
    Summary,
}

#[derive(Clone)]
enum Probe {
    Readiness {
        registry: HealthRegistry,
        drain: Drain,
    },
    Liveness(Liveness),
}

impl HealthService {
    /// A readiness endpoint over `registry`, failing while `drain` drains.
    pub fn readiness(registry: HealthRegistry, drain: &Drain) -> Self {
        HealthService::with_probe(Probe::Readiness {
            registry,
            drain: drain.clone(),
        })
    }

    /// A liveness endpoint that reads only `liveness`.
    pub fn liveness(liveness: &Liveness) -> Self {
        HealthService::with_probe(Probe::Liveness(liveness.clone()))
    }

    /// Sets the `version` field, the service's public version.
    pub fn version(mut self, version: impl Into<Arc<str>>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Sets the `serviceId` field, which names the service.
    pub fn service_id(mut self, service_id: impl Into<Arc<str>>) -> Self {
        self.service_id = Some(service_id.into());
        self
    }

    /// Sets how much the document tells; [`Details::Full`] by default.
    pub fn details(mut self, details: Details) -> Self {
        self.details = details;
        self
    }

    /// The status the endpoint would answer now.
    pub fn status(&self) -> Status {
        match &self.probe {
            Probe::Liveness(liveness) => liveness_status(liveness),
            Probe::Readiness { registry, drain } => readiness_status(drain, &registry.snapshot()),
        }
    }

    /// The document and the status the endpoint would answer now.
    pub fn document(&self) -> (Status, String) {
        let now = SystemTime::now();
        let mut out = String::with_capacity(256);
        let status = match &self.probe {
            Probe::Liveness(liveness) => {
                let status = liveness_status(liveness);
                self.write_head(&mut out, status);
                status
            }
            Probe::Readiness { registry, drain } => {
                let snapshot = registry.snapshot();
                let status = readiness_status(drain, &snapshot);
                self.write_head(&mut out, status);
                if self.details == Details::Full {
                    write_checks(&mut out, drain, &snapshot, now);
                }
                status
            }
        };
        out.push('}');
        (status, out)
    }

    fn with_probe(probe: Probe) -> Self {
        HealthService {
            probe,
            version: None,
            service_id: None,
            details: Details::Full,
        }
    }

    fn write_head(&self, out: &mut String, status: Status) {
        out.push_str("{\"status\":");
        json::string(out, status.as_str());
        if let Some(version) = &self.version {
            out.push_str(",\"version\":");
            json::string(out, version);
        }
        if let Some(service_id) = &self.service_id {
            out.push_str(",\"serviceId\":");
            json::string(out, service_id);
        }
    }
}

impl<B> Service<Request<B>> for HealthService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: Request<B>) -> Self::Future {
        let (status, document) = self.document();
        let mut response = Response::new(Full::new(Bytes::from(document)));
        if status == Status::Fail {
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        }
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(HEALTH_JSON));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        ready(Ok(response))
    }
}

impl fmt::Debug for HealthService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let probe = match self.probe {
            Probe::Readiness { .. } => "readiness",
            Probe::Liveness(_) => "liveness",
        };
        f.debug_struct("HealthService")
            .field("probe", &probe)
            .field("version", &self.version)
            .field("service_id", &self.service_id)
            .field("details", &self.details)
            .finish()
    }
}

fn liveness_status(liveness: &Liveness) -> Status {
    if liveness.is_alive() {
        Status::Pass
    } else {
        Status::Fail
    }
}

fn readiness_status(drain: &Drain, snapshot: &[ComponentHealth]) -> Status {
    if drain.is_draining() {
        return Status::Fail;
    }
    snapshot.iter().fold(Status::Pass, |worst, entry| {
        let status = entry.report().status();
        // Only a critical component may take the instance out of rotation;
        // any other failure is a concern, not a reason to refuse work.
        let counted = if entry.component().is_critical() {
            status
        } else {
            status.min(Status::Warn)
        };
        worst.worst(counted)
    })
}

fn write_checks(out: &mut String, drain: &Drain, snapshot: &[ComponentHealth], now: SystemTime) {
    let mut time = String::with_capacity(20);
    rfc3339::write(&mut time, now);

    // Two components may share a name; their entries share one key, since
    // a JSON object must not repeat a key.
    let mut checks: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |key: String, kind: &str, value: Option<&Value>, status: Status| {
        let mut entry = String::from("{\"componentType\":");
        json::string(&mut entry, kind);
        if let Some(value) = value {
            entry.push_str(",\"observedValue\":");
            json::value(&mut entry, value);
        }
        entry.push_str(",\"status\":");
        json::string(&mut entry, status.as_str());
        entry.push_str(",\"time\":");
        json::string(&mut entry, &time);
        entry.push('}');
        match checks.iter_mut().find(|(k, _)| *k == key) {
            Some((_, entries)) => entries.push(entry),
            None => checks.push((key, vec![entry])),
        }
    };

    let draining = drain.is_draining();
    let drain_status = if draining { Status::Fail } else { Status::Pass };
    let in_flight = Value::Unsigned(drain.in_flight() as u64);
    add(
        "drain:draining".into(),
        "handshake",
        Some(&Value::Bool(draining)),
        drain_status,
    );
    add(
        "drain:in_flight".into(),
        "handshake",
        Some(&in_flight),
        drain_status,
    );
    for entry in snapshot {
        let component = entry.component();
        let report = entry.report();
        if report.observations().is_empty() {
            add(
                component.name().to_owned(),
                component.kind(),
                None,
                report.status(),
            );
        }
        for observation in report.observations() {
            add(
                format!("{}:{}", component.name(), observation.name()),
                component.kind(),
                Some(observation.value()),
                report.status(),
            );
        }
    }

    out.push_str(",\"checks\":{");
    for (i, (key, entries)) in checks.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::string(out, key);
        out.push_str(":[");
        out.push_str(&entries.join(","));
        out.push(']');
    }
    out.push('}');
}

//! The health documents: readiness, liveness, full and summary.

use std::sync::{Arc, Mutex};

use http::{Request, StatusCode};
use http_body_util::BodyExt;
use seawall_core::health::{Component, HealthRegistry, HealthReport, ReportHealth, Status};
use seawall_handshake::{Details, Drain, HealthService, Liveness};
use serde_json::Value as Json;
use tower::ServiceExt;

/// A component whose report the test sets.
struct Fixed(Mutex<HealthReport>);

impl Fixed {
    fn new(report: HealthReport) -> Arc<Self> {
        Arc::new(Fixed(Mutex::new(report)))
    }

    fn set(&self, report: HealthReport) {
        *self.0.lock().unwrap() = report;
    }
}

impl ReportHealth for Fixed {
    fn report(&self) -> HealthReport {
        self.0.lock().unwrap().clone()
    }
}

async fn get(service: &HealthService) -> (StatusCode, http::HeaderMap, Json) {
    let Ok(response) = service.clone().oneshot(Request::new(())).await;
    let status = response.status();
    let headers = response.headers().clone();
    let Ok(body) = response.into_body().collect().await;
    let json = serde_json::from_slice(&body.to_bytes()).expect("the document is valid JSON");
    (status, headers, json)
}

fn is_rfc3339_utc(time: &str) -> bool {
    let b = time.as_bytes();
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    b.len() == 20
        && digits.iter().all(|&i| b[i].is_ascii_digit())
        && (b[4], b[7], b[10], b[13], b[16], b[19]) == (b'-', b'-', b'T', b':', b':', b'Z')
}

#[tokio::test]
async fn an_empty_registry_passes_with_the_draft_headers() {
    let drain = Drain::new();
    let service = HealthService::readiness(HealthRegistry::new(), &drain)
        .version("1.4.2")
        .service_id("orders");

    let (status, headers, doc) = get(&service).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/health+json");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(doc["status"], "pass");
    assert_eq!(doc["version"], "1.4.2");
    assert_eq!(doc["serviceId"], "orders");
    let draining = &doc["checks"]["drain:draining"][0];
    assert_eq!(draining["observedValue"], false);
    assert_eq!(draining["componentType"], "handshake");
    assert_eq!(doc["checks"]["drain:in_flight"][0]["observedValue"], 0);
}

#[tokio::test]
async fn each_component_state_sets_the_document_status() {
    // (component status, critical, document status, http status)
    let cases = [
        (Status::Pass, false, "pass", StatusCode::OK),
        (Status::Pass, true, "pass", StatusCode::OK),
        (Status::Warn, false, "warn", StatusCode::OK),
        (Status::Warn, true, "warn", StatusCode::OK),
        (Status::Fail, false, "warn", StatusCode::OK),
        (Status::Fail, true, "fail", StatusCode::SERVICE_UNAVAILABLE),
    ];
    for (component_status, critical, expected, http_status) in cases {
        let registry = HealthRegistry::new();
        let pool = Fixed::new(HealthReport::new(component_status).observe("in_flight", 3u64));
        registry.register(Component::new("db", "bulkhead").critical(critical), &pool);
        let service = HealthService::readiness(registry, &Drain::new());

        let (status, _, doc) = get(&service).await;

        let case = format!("{component_status:?}, critical {critical}");
        assert_eq!(status, http_status, "{case}");
        assert_eq!(doc["status"], expected, "{case}");
        let check = &doc["checks"]["db:in_flight"][0];
        assert_eq!(check["componentType"], "bulkhead", "{case}");
        assert_eq!(check["observedValue"], 3, "{case}");
        assert_eq!(check["status"], component_status.as_str(), "{case}");
        assert!(is_rfc3339_utc(check["time"].as_str().unwrap()), "{check}");
    }
}

#[tokio::test]
async fn readiness_follows_the_components_as_they_change() {
    let registry = HealthRegistry::new();
    let breaker = Fixed::new(HealthReport::new(Status::Pass).observe("state", "closed"));
    registry.register(
        Component::new("payments", "circuit_breaker").critical(true),
        &breaker,
    );
    let service = HealthService::readiness(registry, &Drain::new());
    assert_eq!(get(&service).await.0, StatusCode::OK);

    breaker.set(HealthReport::new(Status::Fail).observe("state", "open"));
    let (status, _, doc) = get(&service).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(doc["checks"]["payments:state"][0]["observedValue"], "open");
    assert_eq!(service.status(), Status::Fail);

    breaker.set(HealthReport::new(Status::Pass).observe("state", "closed"));
    assert_eq!(get(&service).await.0, StatusCode::OK);

    // A component that is gone no longer counts.
    breaker.set(HealthReport::new(Status::Fail));
    drop(breaker);
    assert_eq!(get(&service).await.2["status"], "pass");
}

#[tokio::test]
async fn readiness_fails_while_draining_and_recovers_on_undrain() {
    let drain = Drain::new();
    let service = HealthService::readiness(HealthRegistry::new(), &drain);

    let _waiting = drain.drain();
    let (status, _, doc) = get(&service).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(doc["status"], "fail");
    assert_eq!(doc["checks"]["drain:draining"][0]["observedValue"], true);
    assert_eq!(doc["checks"]["drain:draining"][0]["status"], "fail");

    drain.undrain();
    let (status, _, doc) = get(&service).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["status"], "pass");
}

#[tokio::test]
async fn summary_tells_only_status_version_and_service_id() {
    let registry = HealthRegistry::new();
    let pool = Fixed::new(HealthReport::new(Status::Fail).observe("idle", 0u64));
    registry.register(Component::new("db", "pool").critical(true), &pool);
    let service = HealthService::readiness(registry, &Drain::new())
        .version("2")
        .service_id("svc")
        .details(Details::Summary);

    let (status, _, doc) = get(&service).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let keys: Vec<_> = doc.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 3, "{doc}");
    assert_eq!(
        (&doc["status"], &doc["version"], &doc["serviceId"]),
        (&Json::from("fail"), &Json::from("2"), &Json::from("svc"))
    );
}

#[tokio::test]
async fn liveness_ignores_components_and_draining() {
    let registry = HealthRegistry::new();
    let pool = Fixed::new(HealthReport::new(Status::Fail));
    registry.register(Component::new("db", "pool").critical(true), &pool);
    let drain = Drain::new();
    let _waiting = drain.drain();
    let liveness = Liveness::new();
    let service = HealthService::liveness(&liveness).service_id("svc");

    let (status, _, doc) = get(&service).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["status"], "pass");
    assert!(doc.get("checks").is_none());

    liveness.set_broken(true);
    let (status, _, doc) = get(&service).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(doc["status"], "fail");
    assert!(!liveness.is_alive());

    liveness.set_broken(false);
    assert_eq!(get(&service).await.0, StatusCode::OK);
}

#[tokio::test]
async fn names_are_escaped_and_shared_keys_merge() {
    let registry = HealthRegistry::new();
    let a = Fixed::new(HealthReport::new(Status::Pass).observe("n", 1u64));
    let b = Fixed::new(HealthReport::new(Status::Warn).observe("n", 2u64));
    let quoted = Fixed::new(HealthReport::new(Status::Pass).observe("mode", "a\"b\\c\n"));
    let bare = Fixed::new(HealthReport::new(Status::Pass));
    registry.register(Component::new("twin", "bulkhead"), &a);
    registry.register(Component::new("twin", "bulkhead"), &b);
    registry.register(Component::new("odd \"name\"", "governor"), &quoted);
    registry.register(Component::new("bare", "custom"), &bare);
    let service = HealthService::readiness(registry, &Drain::new());

    let (_, _, doc) = get(&service).await;

    let twins = doc["checks"]["twin:n"].as_array().unwrap();
    assert_eq!(twins.len(), 2);
    assert_eq!(twins[1]["observedValue"], 2);
    assert_eq!(
        doc["checks"]["odd \"name\":mode"][0]["observedValue"],
        "a\"b\\c\n"
    );
    let bare = &doc["checks"]["bare"][0];
    assert_eq!(bare["componentType"], "custom");
    assert!(bare.get("observedValue").is_none());
}

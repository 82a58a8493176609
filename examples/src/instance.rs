//! The example server as a deployable instance: the app behind a readiness
//! gate, health probes for a load balancer, an `x-instance` header, and a
//! loopback-only admin router that drains and undrains it.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use seawall::handshake::{Drain, HealthService, Liveness, ReadinessGateLayer};
use seawall::http::ErrorResponseLayer;
use seawall::BoxError;
use tower::ServiceBuilder;

use crate::app::{app, App};

/// The header that names the instance that answered.
pub const INSTANCE_HEADER: &str = "x-instance";

/// Where and how an instance runs; read from the environment by
/// [`Settings::from_env`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the application and its probes listen (`SEAWALL_ADDR`,
    /// `127.0.0.1:3000` by default).
    pub addr: SocketAddr,
    /// Where the admin routes listen (`SEAWALL_ADMIN_ADDR`,
    /// `127.0.0.1:3001` by default); must be a loopback address.
    pub admin_addr: SocketAddr,
    /// The name in the `x-instance` header and the health document's
    /// `serviceId` (`SEAWALL_INSTANCE`, `example` by default).
    pub instance: String,
    /// How long a drain keeps serving while the load balancer notices
    /// (`SEAWALL_DRAIN_NOTICE_MS`, 5,000 by default).
    pub notice_delay: Duration,
    /// How long a drain waits for requests in flight
    /// (`SEAWALL_DRAIN_TIMEOUT_MS`, 30,000 by default).
    pub drain_timeout: Duration,
}

/// The routers of one instance and the drain they share.
#[derive(Debug)]
pub struct Instance {
    /// The application with `/health/ready` and `/health/live`.
    pub router: Router,
    /// `POST /admin/drain` and `POST /admin/undrain`; serve it on loopback
    /// only.
    pub admin: Router,
    /// The drain the gate, the readiness probe and the admin routes share.
    pub drain: Drain,
}

impl Settings {
    /// Reads the settings from the environment; an unparsable value or a
    /// non-loopback admin address is an error.
    pub fn from_env() -> Result<Settings, BoxError> {
        let admin_addr = env_or(
            "SEAWALL_ADMIN_ADDR",
            SocketAddr::from(([127, 0, 0, 1], 3001)),
        )?;
        if !admin_addr.ip().is_loopback() {
            return Err(
                format!("SEAWALL_ADMIN_ADDR must be a loopback address, got {admin_addr}").into(),
            );
        }
        Ok(Settings {
            addr: env_or("SEAWALL_ADDR", SocketAddr::from(([127, 0, 0, 1], 3000)))?,
            admin_addr,
            instance: std::env::var("SEAWALL_INSTANCE").unwrap_or_else(|_| "example".into()),
            notice_delay: Duration::from_millis(env_or("SEAWALL_DRAIN_NOTICE_MS", 5_000)?),
            drain_timeout: Duration::from_millis(env_or("SEAWALL_DRAIN_TIMEOUT_MS", 30_000)?),
        })
    }
}

/// Builds an instance: the example app (`/work`, `/stuck`) plus `/`, which
/// answers `hello from <instance>`, all behind the readiness gate; the
/// probes beside the gate, so they answer while draining; every response
/// marked with [`INSTANCE_HEADER`].
pub fn instance(settings: &Settings) -> Result<Instance, BoxError> {
    let App { router, health, .. } = app()?;
    let drain = Drain::builder()
        .name(settings.instance.clone())
        .notice_delay(settings.notice_delay)
        .timeout(settings.drain_timeout)
        .build()?;
    let liveness = Liveness::new();
    let name = HeaderValue::try_from(settings.instance.as_str())?;
    let hello = format!("hello from {}\n", settings.instance);

    let router = router
        .route("/", get(move || async move { hello }))
        .layer(
            ServiceBuilder::new()
                .layer(ErrorResponseLayer::new())
                .layer(ReadinessGateLayer::new(&drain)),
        )
        .route_service(
            "/health/ready",
            HealthService::readiness(health, &drain)
                .service_id(settings.instance.as_str())
                .version(env!("CARGO_PKG_VERSION")),
        )
        .route_service("/health/live", HealthService::liveness(&liveness))
        .layer(axum::middleware::map_response(
            move |mut response: Response| {
                let name = name.clone();
                async move {
                    response.headers_mut().insert(INSTANCE_HEADER, name);
                    response
                }
            },
        ));

    let admin = Router::new()
        .route(
            "/admin/drain",
            post({
                let drain = drain.clone();
                move || async move {
                    // Nobody waits here: readiness fails now, and the gate
                    // closes by itself when the notice delay is over.
                    drop(drain.drain());
                    (StatusCode::ACCEPTED, "draining\n")
                }
            }),
        )
        .route(
            "/admin/undrain",
            post({
                let drain = drain.clone();
                move || async move {
                    drain.undrain();
                    (StatusCode::OK, "taking work\n")
                }
            }),
        );

    Ok(Instance {
        router,
        admin,
        drain,
    })
}

fn env_or<T>(key: &str, default: T) -> Result<T, BoxError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match std::env::var(key) {
        Ok(value) => value
            .parse()
            .map_err(|error| format!("{key}={value:?}: {error}").into()),
        Err(_) => Ok(default),
    }
}

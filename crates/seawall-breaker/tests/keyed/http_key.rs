//! `AuthorityKey` gives each upstream authority its own breaker.

use std::time::Duration;

use seawall_breaker::error::{BoxError, CircuitOpen};
use seawall_breaker::{AuthorityKey, BreakerConfig, KeyedBreakerConfig, KeyedCircuitBreakerLayer};
use tower::{service_fn, Layer as _, Service, ServiceExt};

#[tokio::test(start_paused = true)]
async fn each_authority_has_its_own_breaker() {
    let config = KeyedBreakerConfig::builder()
        .template(
            BreakerConfig::builder()
                .name("client")
                .consecutive_failures(1)
                .open_duration(Duration::from_secs(5))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let keyed = KeyedCircuitBreakerLayer::new(config, AuthorityKey);
    let breakers = keyed.handle();
    let mut client = keyed.layer(service_fn(|request: http::Request<()>| async move {
        match request.uri().host() {
            Some("down.example") => Err::<u16, BoxError>("connection refused".into()),
            _ => Ok(200),
        }
    }));
    let get = |uri: &str| http::Request::get(uri).body(()).unwrap();

    let ready = client.ready().await.unwrap();
    ready.call(get("http://down.example/a")).await.unwrap_err();
    let ready = client.ready().await.unwrap();
    let error = ready.call(get("http://down.example/b")).await.unwrap_err();
    let open = error.downcast_ref::<CircuitOpen>().expect("refused");
    assert_eq!(open.name(), Some("client/down.example"));

    // Another port is another authority, and so another breaker.
    let ready = client.ready().await.unwrap();
    assert_eq!(
        ready.call(get("http://up.example:8080/")).await.unwrap(),
        200
    );
    let keys: Vec<_> = breakers.keys().into_iter().map(|(key, _)| key).collect();
    assert_eq!(keys, ["down.example".into(), "up.example:8080".into()]);
}

//! The learned limit, through the service, on paused time: an open-loop
//! load at twice the capacity of a simulated service whose latency grows
//! with the calls in flight past its ideal concurrency `C` (Little's law),
//! and the default gradient limit settles within 10% of `C`, then follows
//! `C` down when the service loses half its capacity, and holds near `C`
//! when every call gets slower whatever the concurrency.
//!
//! Unlike `convergence.rs`, which feeds the algorithm samples directly,
//! every sample here comes from a real call through `Shed`: admission,
//! in-flight counting, refusals and recording are all in the loop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use seawall_core::BoxError;
use seawall_shed::limit::Gradient;
use seawall_shed::{Overloaded, ShedHandle, ShedLayer};
use tokio::time::{Instant, MissedTickBehavior};
use tower::{service_fn, Service, ServiceExt};
use tower_layer::Layer;

/// The latency of the simulated service when it is not saturated.
const BASE: Duration = Duration::from_millis(20);

/// A service that runs `capacity` calls at once in `BASE` each and queues
/// the rest: a call admitted with `n > capacity` in flight takes
/// `BASE * n / capacity`; all of it `slowdown` times longer.
#[derive(Clone)]
struct Simulated {
    capacity: Arc<AtomicUsize>,
    slowdown: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
}

impl Simulated {
    fn new(capacity: usize) -> Self {
        Simulated {
            capacity: Arc::new(AtomicUsize::new(capacity)),
            slowdown: Arc::new(AtomicUsize::new(1)),
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn latency(&self, in_flight: usize) -> Duration {
        let capacity = self.capacity.load(Ordering::SeqCst);
        let base = BASE * self.slowdown.load(Ordering::SeqCst) as u32;
        if in_flight <= capacity {
            return base;
        }
        base.mul_f64(in_flight as f64 / capacity as f64)
    }

    /// The simulated service behind `service_fn`.
    fn service(
        &self,
    ) -> impl Service<(), Response = (), Error = BoxError, Future = impl Send> + Clone + Send + 'static
    {
        let simulated = self.clone();
        service_fn(move |()| {
            let simulated = simulated.clone();
            async move {
                let n = simulated.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(simulated.latency(n)).await;
                simulated.in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, BoxError>(())
            }
        })
    }
}

/// What one phase of load did.
#[derive(Debug)]
struct Phase {
    /// The median of the last second's readings: where the limit settled.
    /// Not the very last reading, which may fall in one of the gradient's
    /// deliberate probes below its limit.
    settled: usize,
    /// How long into the phase the limit first came within 10% of the
    /// target.
    reached: Option<Duration>,
    /// The share of the last second's readings (one every 10 ms) within
    /// 10% of the target. The gradient probes below its limit now and
    /// then on purpose, so not every reading is.
    inside: f64,
    /// The highest reading of the last second.
    high: usize,
    /// The lowest reading of the whole phase.
    lowest: usize,
    served: usize,
    shed: usize,
}

fn within_ten_percent(limit: usize, target: usize) -> bool {
    limit.abs_diff(target) * 10 <= target
}

/// Offers `per_ms` calls every millisecond for `length`, each on its own
/// task (open loop: a refusal is not retried and does not slow the
/// arrivals), and reads the limit every 10 ms during the last second.
async fn load<S>(
    service: &S,
    shed: &ShedHandle,
    per_ms: usize,
    length: Duration,
    target: usize,
) -> Phase
where
    S: Service<(), Response = (), Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
{
    let served = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_millis(1));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut readings = Vec::new();
    let mut lowest = usize::MAX;
    let mut reached = None;
    let mut tick = 0u64;
    while start.elapsed() < length {
        ticks.tick().await;
        for _ in 0..per_ms {
            let service = service.clone();
            let served = served.clone();
            let refused = refused.clone();
            tokio::spawn(async move {
                match service.oneshot(()).await {
                    Ok(()) => served.fetch_add(1, Ordering::Relaxed),
                    Err(error) => {
                        assert!(error.is::<Overloaded>(), "only refusals fail: {error}");
                        refused.fetch_add(1, Ordering::Relaxed)
                    }
                };
            });
        }
        tick += 1;
        if !tick.is_multiple_of(10) {
            continue;
        }
        let limit = shed.limit();
        lowest = lowest.min(limit);
        if reached.is_none() && within_ten_percent(limit, target) {
            reached = Some(start.elapsed());
        }
        if length.saturating_sub(start.elapsed()) <= Duration::from_secs(1) {
            readings.push(limit);
        }
    }
    let mut sorted = readings.clone();
    sorted.sort_unstable();
    let inside = readings
        .iter()
        .filter(|&&limit| within_ten_percent(limit, target))
        .count();
    Phase {
        settled: sorted.get(sorted.len() / 2).copied().unwrap_or(0),
        reached,
        inside: inside as f64 / readings.len() as f64,
        high: readings.iter().copied().max().unwrap_or(0),
        lowest,
        served: served.load(Ordering::Relaxed),
        shed: refused.load(Ordering::Relaxed),
    }
}

#[tokio::test(start_paused = true)]
async fn the_limit_learned_through_the_service_settles_near_the_ideal_concurrency() {
    const C: usize = 80;
    let simulated = Simulated::new(C);
    let inner = simulated.service();
    // The default algorithm, the gradient, from its default initial limit
    // of 20: it has to find C = 80 by itself. Measured: within 10% after
    // 0.97 s, settled at 86, 93% of the last second's readings within 10%;
    // 37,431 calls served of the 40,000 capacity allowed in the phase;
    // after the halving, within 10% of 40 after 0.18 s, settled at 43.
    let layer = ShedLayer::builder().name("simulated").build().unwrap();
    let shed = layer.handle();
    assert_eq!(shed.algorithm(), "gradient");
    assert_eq!(shed.limit(), 20);
    let service = layer.layer(inner);

    // Capacity is C / BASE = 4 calls per ms; offer twice that.
    let first = load(&service, &shed, 8, Duration::from_secs(10), C).await;
    assert!(
        within_ten_percent(first.settled, C),
        "limit {} is not within 10% of {C}: {first:?}",
        first.settled
    );
    assert!(
        first.reached.is_some_and(|t| t < Duration::from_secs(5)),
        "{first:?}"
    );
    assert!(first.inside >= 0.8, "{first:?}");
    assert!(first.high * 20 <= C * 23, "overshoots: {first:?}");
    // Goodput: close to capacity (4 per ms for 10 s), the rest shed.
    assert!(first.served >= 36_000, "{first:?}");
    assert!(first.shed > 0, "{first:?}");

    // The service loses half its capacity: latency rises at the same
    // concurrency, and the limit follows C down.
    simulated.capacity.store(C / 2, Ordering::SeqCst);
    let second = load(&service, &shed, 8, Duration::from_secs(10), C / 2).await;
    assert!(
        within_ten_percent(second.settled, C / 2),
        "limit {} is not within 10% of {}: {second:?}",
        second.settled,
        C / 2
    );
    assert!(
        second.reached.is_some_and(|t| t < Duration::from_secs(5)),
        "{second:?}"
    );
    assert!(second.inside >= 0.8, "{second:?}");
    assert!(second.high * 20 <= C / 2 * 23, "overshoots: {second:?}");
    assert!(second.served >= 18_000, "{second:?}");

    // Let every call in flight finish: nothing is held.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(shed.in_flight(), 0);
    assert_eq!(simulated.in_flight.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_limit_held_while_app_limited_comes_down_as_soon_as_load_arrives() {
    // C = 40 at 20 ms: 2 calls per ms. The limit starts at 100.
    const C: usize = 40;
    let simulated = Simulated::new(C);
    let inner = simulated.service();
    let gradient = Gradient::builder().initial_limit(100).build().unwrap();
    let layer = ShedLayer::builder()
        .name("untried")
        .algorithm(gradient)
        .build()
        .unwrap();
    let shed = layer.handle();
    let service = layer.layer(inner);

    // Half the capacity for a second: about 20 in flight against 100,
    // app-limited, so the limit stays where it was, untried above 20.
    let quiet = load(&service, &shed, 1, Duration::from_secs(1), C).await;
    assert_eq!(shed.limit(), 100, "{quiet:?}");

    // Then twice the capacity. The first calls that queue show the limit
    // was far too high, and the untried part goes at once. Measured:
    // within 10% of C 39 ms in (readings come every 10 ms), settled at
    // 43; with the smoothed cut alone, 159 ms.
    let busy = load(&service, &shed, 4, Duration::from_secs(2), C).await;
    assert!(
        busy.reached.is_some_and(|t| t <= Duration::from_millis(50)),
        "{busy:?}"
    );
    assert!(within_ten_percent(busy.settled, C), "{busy:?}");

    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(shed.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_dependency_twice_as_slow_is_not_taken_for_queueing() {
    // C = 40 at 20 ms: 2 calls per ms; offered twice that throughout.
    const C: usize = 40;
    let simulated = Simulated::new(C);
    let layer = ShedLayer::builder().name("slowed").build().unwrap();
    let shed = layer.handle();
    let service = layer.layer(simulated.service());
    let normal = load(&service, &shed, 4, Duration::from_secs(4), C).await;
    assert!(within_ten_percent(normal.settled, C), "{normal:?}");

    // Every call now takes twice as long whatever the concurrency: the
    // service still runs C at once, and cutting below that only sheds
    // more. The limit backs off as from queueing until a cut shows the
    // latency deaf to it, then climbs back. Measured: lowest 25, settled
    // at 43, 5,860 calls served of the 6,000 the slower service could.
    // (Before slowdowns were told from queueing, the limit fell to 1 and
    // stayed there: 326 served.)
    simulated.slowdown.store(2, Ordering::SeqCst);
    let slow = load(&service, &shed, 4, Duration::from_secs(6), C).await;
    assert!(slow.lowest * 2 >= C, "collapsed: {slow:?}");
    assert!(within_ten_percent(slow.settled, C), "{slow:?}");
    assert!(slow.inside >= 0.8, "{slow:?}");
    assert!(slow.served >= 5_000, "{slow:?}");

    // And back.
    simulated.slowdown.store(1, Ordering::SeqCst);
    let back = load(&service, &shed, 4, Duration::from_secs(4), C).await;
    assert!(within_ten_percent(back.settled, C), "{back:?}");
    assert!(back.high * 20 <= C * 23, "overshoots: {back:?}");

    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(shed.in_flight(), 0);
}

//! A real load balancer in front of two example servers: HAProxy on
//! loopback, `option httpchk` on `/health/ready`. Draining one instance
//! moves all traffic to the other without a single failed request;
//! undraining brings it back.
//!
//! Why no request fails: a drain fails readiness at once but keeps serving
//! for its notice delay (here 2 s), while HAProxy checks every 100 ms and
//! takes a server out after two failed checks. HAProxy therefore stops
//! sending before the gate starts answering `503`. HAProxy is configured
//! with no `retry-on` and no `redispatch`, so it hides no failure.
//!
//! Real processes in real time; every wait is bounded, and the whole test
//! takes a few seconds. It needs `haproxy` on the PATH: `scripts/test`
//! installs the Debian package when it is missing.

mod support;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

use support::{client, free_port, scratch, start_server, wait_for_status, Addrs, Children};

const NOTICE: Duration = Duration::from_secs(2);
const PACE: Duration = Duration::from_millis(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_one_instance_moves_traffic_to_the_other_without_failures() {
    let haproxy = which_haproxy();
    let dir = scratch("haproxy");
    let mut children = Children::default();
    let client = client();

    let a = start_server(&mut children, &dir, "a", NOTICE);
    let b = start_server(&mut children, &dir, "b", NOTICE);
    for addrs in [a, b] {
        let ready = format!("http://{}/health/ready", addrs.app);
        wait_for_status(&client, &ready, 200, Duration::from_secs(10)).await;
    }
    let front = start_haproxy(&mut children, &haproxy, &dir, [a, b]);
    let url = format!("http://127.0.0.1:{front}/");
    wait_for_status(&client, &url, 200, Duration::from_secs(10)).await;

    // Both instances get traffic.
    let before = Tally::run(&client, &url, Until::Count(40)).await;
    before.assert_no_failures("before the drain");
    assert!(
        before.served("a") > 0 && before.served("b") > 0,
        "{before:?}"
    );

    // Drain a: from the moment HAProxy notices, all traffic goes to b, and
    // nothing fails, neither before it notices nor after a's gate closes.
    let drained = client
        .post(format!("http://{}/admin/drain", a.admin))
        .send()
        .await
        .expect("drain a");
    assert_eq!(drained.status(), 202);
    let drain_started = Instant::now();
    let during = Tally::run(&client, &url, Until::Elapsed(NOTICE + NOTICE / 2)).await;
    during.assert_no_failures("while a drains");
    let switch = during.last_from("a").map_or(0, |index| index + 1);
    let after_switch = &during.answers[switch..];
    assert!(
        after_switch.len() >= 50 && after_switch.iter().all(|(name, _)| name == "b"),
        "after HAProxy noticed, only b serves: {during:?}"
    );
    assert!(
        drain_started.elapsed() > NOTICE,
        "the run outlasted the notice delay, so a's gate closed meanwhile"
    );
    let direct = client
        .get(format!("http://{}/", a.app))
        .send()
        .await
        .expect("ask a directly");
    assert_eq!(direct.status(), 503, "a's gate is closed after the notice");

    // Undrain a: HAProxy sees it ready again and sends it traffic.
    let undrained = client
        .post(format!("http://{}/admin/undrain", a.admin))
        .send()
        .await
        .expect("undrain a");
    assert_eq!(undrained.status(), 200);
    let back = Tally::run(&client, &url, Until::Seen("a", Duration::from_secs(5))).await;
    back.assert_no_failures("while a comes back");
    let after = Tally::run(&client, &url, Until::Count(40)).await;
    after.assert_no_failures("after the undrain");
    assert!(after.served("a") > 0 && after.served("b") > 0, "{after:?}");
    // The logs stay behind only when the test fails.
    drop(children);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The haproxy binary, or a failure that says how to get it.
fn which_haproxy() -> String {
    let found = Command::new("haproxy")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match found {
        Ok(status) if status.success() => "haproxy".to_owned(),
        _ => panic!(
            "haproxy is not installed, and this test needs it: run scripts/test \
             (it installs the Debian package), or `apt-get install haproxy`"
        ),
    }
}

/// Starts HAProxy on a free loopback port in front of `servers`; returns
/// the port.
fn start_haproxy(
    children: &mut Children,
    haproxy: &str,
    dir: &std::path::Path,
    servers: [Addrs; 2],
) -> u16 {
    let port = free_port();
    let config = format!(
        "global
    maxconn 256

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    retries 0

frontend front
    bind 127.0.0.1:{port}
    default_backend instances

backend instances
    balance roundrobin
    option httpchk GET /health/ready
    http-check expect status 200
    default-server inter 100ms fall 2 rise 2
    server a {a}
    server b {b}
",
        a = format_args!("{} check", servers[0].app),
        b = format_args!("{} check", servers[1].app),
    );
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, config).expect("write haproxy.cfg");
    let log = std::fs::File::create(dir.join("haproxy.log")).expect("create a log");
    let child = Command::new(haproxy)
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone a log handle"))
        .stderr(log)
        .spawn()
        .expect("start haproxy");
    children.push("haproxy", child);
    port
}

enum Until {
    Count(usize),
    Elapsed(Duration),
    /// Until the named instance answers, within the bound.
    Seen(&'static str, Duration),
}

/// Which instance answered each request of a run, and what failed.
#[derive(Debug, Default)]
struct Tally {
    answers: Vec<(String, u16)>,
    failures: Vec<String>,
}

impl Tally {
    async fn run(client: &reqwest::Client, url: &str, until: Until) -> Tally {
        let started = Instant::now();
        let mut tally = Tally::default();
        loop {
            let done = match until {
                Until::Count(n) => tally.answers.len() + tally.failures.len() >= n,
                Until::Elapsed(bound) => started.elapsed() >= bound,
                Until::Seen(name, bound) => {
                    assert!(
                        started.elapsed() < bound,
                        "{name} got no traffic within {bound:?}: {tally:?}"
                    );
                    tally.served(name) > 0
                }
            };
            if done {
                return tally;
            }
            match client.get(url).send().await {
                Ok(response) if response.status() == 200 => {
                    let name = response
                        .headers()
                        .get("x-instance")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("?")
                        .to_owned();
                    tally.answers.push((name, 200));
                }
                Ok(response) => tally.failures.push(format!(
                    "status {} from {:?}",
                    response.status(),
                    response.headers().get("x-instance")
                )),
                Err(error) => tally.failures.push(error.to_string()),
            }
            tokio::time::sleep(PACE).await;
        }
    }

    fn served(&self, name: &str) -> usize {
        self.answers.iter().filter(|(n, _)| n == name).count()
    }

    fn last_from(&self, name: &str) -> Option<usize> {
        self.answers.iter().rposition(|(n, _)| n == name)
    }

    fn assert_no_failures(&self, phase: &str) {
        let counts: BTreeMap<_, _> = ["a", "b"].map(|n| (n, self.served(n))).into();
        assert!(
            self.failures.is_empty(),
            "{phase}: {} failed requests ({counts:?} served): {:?}",
            self.failures.len(),
            self.failures
        );
    }
}

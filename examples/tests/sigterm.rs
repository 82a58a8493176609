//! SIGTERM drains the example server, then it shuts down and exits.
//!
//! Real processes in real time: the notice delay is 1 s, and every wait is
//! bounded so a bug fails the test instead of hanging it.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{client, scratch, start_server, wait_for_status, Children};

#[tokio::test]
async fn sigterm_fails_readiness_keeps_serving_through_the_notice_then_exits() {
    let dir = scratch("sigterm");
    let mut children = Children::default();
    let addrs = start_server(&mut children, &dir, "solo", Duration::from_secs(1));
    let client = client();
    let ready = format!("http://{}/health/ready", addrs.app);
    let hello = format!("http://{}/", addrs.app);
    wait_for_status(&client, &ready, 200, Duration::from_secs(10)).await;

    let pid = children.pid_of("solo");
    let sent = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success());

    // Readiness fails first, while requests are still served...
    wait_for_status(&client, &ready, 503, Duration::from_secs(1)).await;
    let response = client
        .get(&hello)
        .send()
        .await
        .expect("served during the notice");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-instance"], "solo");

    // ...then the process drains and exits cleanly.
    let status = children.wait_for_exit("solo", Duration::from_secs(5)).await;
    assert!(status.success(), "exit status {status}");
    let log = std::fs::read_to_string(dir.join("solo.log")).unwrap();
    assert!(log.contains("drain ended"), "{log}");
    assert!(log.contains("outcome=Finished"), "{log}");
    assert!(
        client.get(&hello).send().await.is_err(),
        "nothing listens any more"
    );

    // The logs stay behind only when the test fails.
    drop(children);
    let _ = std::fs::remove_dir_all(&dir);
}

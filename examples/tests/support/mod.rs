//! Running example servers (and HAProxy) as child processes, and killing
//! them on every path out of a test.

#![allow(dead_code, unreachable_pub)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Child processes killed (and reaped) when dropped, so a failing
/// assertion never leaves a server behind.
#[derive(Debug, Default)]
pub struct Children {
    children: Vec<(String, Child)>,
}

impl Children {
    pub fn push(&mut self, name: &str, child: Child) -> u32 {
        let pid = child.id();
        self.children.push((name.to_owned(), child));
        pid
    }

    /// The process id of the named child.
    pub fn pid_of(&self, name: &str) -> u32 {
        self.children
            .iter()
            .find(|(n, _)| n == name)
            .expect("a child by that name")
            .1
            .id()
    }

    /// Waits (bounded) for the named child to exit by itself.
    pub async fn wait_for_exit(&mut self, name: &str, bound: Duration) -> std::process::ExitStatus {
        let child = &mut self
            .children
            .iter_mut()
            .find(|(n, _)| n == name)
            .expect("a child by that name")
            .1;
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} did not exit within {bound:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A loopback port free a moment ago. Another process could take it before
/// it is used; on a test machine that is rare enough.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a free loopback port")
        .port()
}

/// One example server's addresses.
#[derive(Debug, Clone, Copy)]
pub struct Addrs {
    pub app: SocketAddr,
    pub admin: SocketAddr,
}

/// A scratch directory for logs and configuration, named for the test.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("seawall-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// Starts `target/.../server` as instance `name` on free loopback ports,
/// logging to `<dir>/<name>.log`.
pub fn start_server(children: &mut Children, dir: &Path, name: &str, notice: Duration) -> Addrs {
    let addrs = Addrs {
        app: SocketAddr::from(([127, 0, 0, 1], free_port())),
        admin: SocketAddr::from(([127, 0, 0, 1], free_port())),
    };
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).expect("create a log");
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("SEAWALL_ADDR", addrs.app.to_string())
        .env("SEAWALL_ADMIN_ADDR", addrs.admin.to_string())
        .env("SEAWALL_INSTANCE", name)
        .env("SEAWALL_DRAIN_NOTICE_MS", notice.as_millis().to_string())
        .env("SEAWALL_DRAIN_TIMEOUT_MS", "2000")
        .env("RUST_LOG", "info,seawall=debug")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone a log handle"))
        .stderr(log)
        .spawn()
        .expect("start the example server");
    children.push(name, child);
    addrs
}

/// A client that ignores any proxy in the environment.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("build a client")
}

/// Polls `url` until it answers `status`, for at most `bound`.
pub async fn wait_for_status(client: &reqwest::Client, url: &str, status: u16, bound: Duration) {
    let deadline = tokio::time::Instant::now() + bound;
    loop {
        if let Ok(response) = client.get(url).send().await {
            if response.status().as_u16() == status {
                return;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} did not answer {status} within {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

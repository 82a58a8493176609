//! The load generator, run as a process of its own (this bench binary
//! started again with [`ROLE`] as its first argument), on the other core.
//!
//! Two jobs:
//!
//! - `capacity`: closed loop. Each of a number of connections sends its
//!   next request as soon as the last one is answered; the rate of
//!   successes once warmed up is the server's capacity.
//! - `open`: open loop. Requests are due at a fixed rate whatever the
//!   server does, over a pool of keep-alive connections. A request's
//!   latency runs from the moment it was due, so time spent waiting for a
//!   free connection or in the server's queue is counted, not hidden.
//!
//! It talks to the parent over stdout, one line per item:
//! `PHASE <i>` when phase `i` starts, `END` when the last phase ends, then
//! one `R <phase> <due_us> <lag_us> <latency_us> <status>` per request and
//! `DONE <n>`; or `CAPACITY <rps>`.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// The first argument that makes the bench binary a generator.
pub(crate) const ROLE: &str = "__overload_generator";

/// Status recorded for a request that got no answer before the generator
/// gave up on it.
pub(crate) const UNANSWERED: u16 = 0;
/// Status recorded for a request whose connection failed.
pub(crate) const TRANSPORT_ERROR: u16 = 1;

/// Runs the generator with the arguments after [`ROLE`].
pub(crate) fn main(args: &[String]) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("overload generator: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match args.first().map(String::as_str) {
        Some("capacity") => runtime.block_on(capacity(&args[1..])),
        Some("open") => runtime.block_on(open(&args[1..])),
        _ => Err(format!("unknown generator job {args:?}")),
    };
    // Requests still running were abandoned on purpose; do not wait for
    // them.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("overload generator: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The arguments of the `capacity` job.
pub(crate) fn capacity_args(
    addr: SocketAddr,
    connections: usize,
    warm_up: Duration,
    measure: Duration,
) -> Vec<String> {
    vec![
        ROLE.to_owned(),
        "capacity".to_owned(),
        addr.to_string(),
        connections.to_string(),
        warm_up.as_millis().to_string(),
        measure.as_millis().to_string(),
    ]
}

/// The arguments of the `open` job.
pub(crate) fn open_args(
    addr: SocketAddr,
    connections: usize,
    phase: Duration,
    grace: Duration,
    rates: &[f64],
) -> Vec<String> {
    let rates: Vec<String> = rates.iter().map(|r| format!("{r:.3}")).collect();
    vec![
        ROLE.to_owned(),
        "open".to_owned(),
        addr.to_string(),
        connections.to_string(),
        phase.as_millis().to_string(),
        grace.as_millis().to_string(),
        rates.join(","),
    ]
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> Result<T, String> {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("argument {i} ({what}) missing or malformed in {args:?}"))
}

fn millis(args: &[String], i: usize, what: &str) -> Result<Duration, String> {
    arg::<u64>(args, i, what).map(Duration::from_millis)
}

type Connection = SendRequest<Empty<Bytes>>;

async fn connect(addr: SocketAddr) -> Result<Connection, String> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    tcp.set_nodelay(true)
        .map_err(|e| format!("set_nodelay: {e}"))?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        // Ends when the server closes or the sender is dropped.
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends one GET and reads the whole answer; the status, or `None` if the
/// connection failed (it is then not reusable).
async fn get(connection: &mut Connection) -> Option<u16> {
    connection.ready().await.ok()?;
    let request = Request::get("/")
        .header(hyper::header::HOST, "127.0.0.1")
        .body(Empty::new())
        .ok()?;
    let response = connection.send_request(request).await.ok()?;
    let status = response.status().as_u16();
    response.into_body().collect().await.ok()?;
    Some(status)
}

async fn capacity(args: &[String]) -> Result<(), String> {
    let addr: SocketAddr = arg(args, 0, "address")?;
    let connections: usize = arg(args, 1, "connections")?;
    let warm_up = millis(args, 2, "warm-up ms")?;
    let measure = millis(args, 3, "measure ms")?;

    let start = Instant::now();
    let from = start + warm_up;
    let until = from + measure;
    let successes = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let mut connection = connect(addr).await?;
        let successes = Arc::clone(&successes);
        workers.push(tokio::spawn(async move {
            loop {
                let status = get(&mut connection).await;
                let now = Instant::now();
                if now >= until {
                    return Ok(());
                }
                match status {
                    Some(200) if now >= from => {
                        successes.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(_) => {}
                    None => return Err("a connection failed during the capacity run".to_owned()),
                }
            }
        }));
    }
    for worker in workers {
        worker
            .await
            .map_err(|e| format!("capacity worker: {e}"))??;
    }
    let rps = successes.load(Ordering::Relaxed) as f64 / measure.as_secs_f64();
    say(&format!("CAPACITY {rps:.1}"))
}

/// Keep-alive connections shared by the open loop's requests: a request
/// waits (FIFO) for one to be free.
struct Pool {
    addr: SocketAddr,
    free: Semaphore,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    fn take(&self) -> Option<Connection> {
        self.idle.lock().ok()?.pop()
    }

    fn put(&self, connection: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(connection);
        }
    }
}

/// What happened to one request.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    /// From the moment it was due to the moment its task first ran.
    lag: Duration,
    /// From the moment it was due to the end of the answer.
    latency: Duration,
    status: u16,
}

async fn one_request(pool: &Pool, due: Instant) -> Outcome {
    let lag = Instant::now().saturating_duration_since(due);
    let Ok(_permit) = pool.free.acquire().await else {
        return Outcome {
            lag,
            latency: due.elapsed(),
            status: TRANSPORT_ERROR,
        };
    };
    let connection = match pool.take() {
        Some(c) if !c.is_closed() => Ok(c),
        _ => connect(pool.addr).await,
    };
    let status = match connection {
        Ok(mut connection) => match get(&mut connection).await {
            Some(status) => {
                pool.put(connection);
                status
            }
            None => TRANSPORT_ERROR,
        },
        Err(_) => TRANSPORT_ERROR,
    };
    Outcome {
        lag,
        latency: due.elapsed(),
        status,
    }
}

/// Waits until `due` more precisely than tokio's millisecond timer: sleeps
/// to within two milliseconds, then yields until the time comes (the
/// runtime still polls its I/O between yields). This spends the generator's
/// own core, not the server's.
async fn until(due: Instant) {
    const SPIN: Duration = Duration::from_millis(2);
    loop {
        let now = Instant::now();
        if now >= due {
            return;
        }
        let left = due - now;
        if left > SPIN {
            tokio::time::sleep(left - SPIN).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}

async fn open(args: &[String]) -> Result<(), String> {
    let addr: SocketAddr = arg(args, 0, "address")?;
    let connections: usize = arg(args, 1, "connections")?;
    let phase = millis(args, 2, "phase ms")?;
    let grace = millis(args, 3, "grace ms")?;
    let rates: Vec<f64> = args
        .get(4)
        .ok_or("rates missing")?
        .split(',')
        .map(|r| r.parse::<f64>().map_err(|e| format!("rate {r:?}: {e}")))
        .collect::<Result<_, _>>()?;

    let mut idle = Vec::with_capacity(connections);
    for _ in 0..connections {
        idle.push(connect(addr).await?);
    }
    let pool = Arc::new(Pool {
        addr,
        free: Semaphore::new(connections),
        idle: Mutex::new(idle),
    });

    // Every request is known in advance: (phase, due offset).
    let mut schedule = Vec::new();
    for (i, rate) in rates.iter().enumerate() {
        let count = (rate * phase.as_secs_f64()).round() as usize;
        let start = phase * i as u32;
        for k in 0..count {
            schedule.push((i, start + Duration::from_secs_f64(k as f64 / rate)));
        }
    }
    let outcomes: Arc<Mutex<Vec<Option<Outcome>>>> =
        Arc::new(Mutex::new(vec![None; schedule.len()]));
    let pending = Arc::new(AtomicUsize::new(schedule.len()));
    let mut tasks = Vec::with_capacity(schedule.len());

    let start = Instant::now() + Duration::from_millis(50);
    let mut announced = None;
    for (id, &(i, offset)) in schedule.iter().enumerate() {
        let due = start + offset;
        if announced != Some(i) {
            until(start + phase * i as u32).await;
            say(&format!("PHASE {i}"))?;
            announced = Some(i);
        }
        until(due).await;
        let pool = Arc::clone(&pool);
        let outcomes = Arc::clone(&outcomes);
        let pending = Arc::clone(&pending);
        tasks.push(tokio::spawn(async move {
            let outcome = one_request(&pool, due).await;
            if let Ok(mut outcomes) = outcomes.lock() {
                outcomes[id] = Some(outcome);
            }
            pending.fetch_sub(1, Ordering::Relaxed);
        }));
    }
    let end = start + phase * rates.len() as u32;
    until(end).await;
    say("END")?;

    let give_up = end + grace;
    while pending.load(Ordering::Relaxed) > 0 && Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for task in &tasks {
        task.abort();
    }
    let stopped = Instant::now();

    let outcomes = outcomes
        .lock()
        .map_err(|_| "a request task panicked".to_owned())?
        .clone();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (&(i, offset), outcome) in schedule.iter().zip(&outcomes) {
        let due = start + offset;
        let o = outcome.unwrap_or(Outcome {
            lag: Duration::ZERO,
            latency: stopped.saturating_duration_since(due),
            status: UNANSWERED,
        });
        writeln!(
            out,
            "R {i} {} {} {} {}",
            offset.as_micros(),
            o.lag.as_micros(),
            o.latency.as_micros(),
            o.status
        )
        .map_err(|e| format!("stdout: {e}"))?;
    }
    writeln!(out, "DONE {}", schedule.len()).map_err(|e| format!("stdout: {e}"))?;
    out.flush().map_err(|e| format!("stdout: {e}"))
}

fn say(line: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("stdout: {e}"))
}

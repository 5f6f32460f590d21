//! The spool's crash guarantee: a process exporting through `Spool` to an unreachable
//! OTLP endpoint is killed with SIGKILL after its events were spooled; restarted with
//! the endpoint up, it delivers every event exactly once by id, old ones first.
//!
//! The child process is this test binary running the ignored test
//! `child_exports_through_spool`, configured by environment variables.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use telemetry_core::TelemetryEvent;
use telemetry_core::export::{Otlp, Spool};
use telemetry_test_support::http::HttpServer;

/// An order was placed (spool crash test).
#[derive(TelemetryEvent)]
#[telemetry(name = "order.placed", owner = "tests")]
struct OrderPlaced {
    /// Sequence number within the child's run.
    n: u32,
    /// Which run of the child emitted it.
    run: u32,
}

const FIRST_RUN: u32 = 40;
const SECOND_RUN: u32 = 7;

/// Kills the child if the test fails before it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(dir: &Path, endpoint: &str, emit: u32, run: u32, mode: &str) -> KillOnDrop {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_exports_through_spool",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SPOOL_CHILD_DIR", dir)
        .env("SPOOL_CHILD_ENDPOINT", endpoint)
        .env("SPOOL_CHILD_EMIT", emit.to_string())
        .env("SPOOL_CHILD_RUN", run.to_string())
        .env("SPOOL_CHILD_MODE", mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map(KillOnDrop)
        .unwrap()
}

/// Waits (at most a minute) for the child to print a line holding `prefix`; returns
/// the line from `prefix` on.
fn wait_for_line(child: &mut KillOnDrop, prefix: &str) -> String {
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let prefix = prefix.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            // libtest may have written the test's name on the same line first.
            // Reads on to the end, so the child never writes into a closed pipe.
            if let Some(at) = line.find(&prefix) {
                let _ = tx.send(line[at..].to_owned());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the child printed its status line")
}

#[test]
fn killed_process_delivers_its_spooled_events_exactly_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    // A loopback port with nothing listening.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };

    let mut child = spawn(dir.path(), &closed, FIRST_RUN, 1, "crash");
    let line = wait_for_line(&mut child, "SPOOLED");
    assert_eq!(line, format!("SPOOLED pending={FIRST_RUN}"));
    child.0.kill().unwrap(); // SIGKILL: no destructor, no flush
    child.0.wait().unwrap();

    let server = HttpServer::start(vec![]);
    let mut child = spawn(dir.path(), &server.url(), SECOND_RUN, 2, "finish");
    let line = wait_for_line(&mut child, "DONE");
    assert!(child.0.wait().unwrap().success());
    assert_eq!(
        line,
        format!(
            "DONE recovered={FIRST_RUN} pending=0 delivered={}",
            FIRST_RUN + SECOND_RUN
        )
    );

    let requests = server.requests();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut order = Vec::new();
    for request in &requests {
        assert_eq!(request.path, "/v1/logs");
        for id in request.otlp_record_uids() {
            *seen.entry(id.clone()).or_default() += 1;
            order.push(id);
        }
    }
    assert_eq!(seen.len(), (FIRST_RUN + SECOND_RUN) as usize, "{seen:?}");
    assert!(seen.values().all(|&n| n == 1), "duplicates: {seen:?}");
    // UUID v7 ids are time-ordered: the first run's events went first.
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

/// The child process of the test above.
#[test]
#[ignore = "run by another test in a child process"]
fn child_exports_through_spool() {
    if std::env::var_os("SPOOL_CHILD_DIR").is_none() {
        return; // Only meaningful in the child process (`--include-ignored` runs it too).
    }
    let var = |name: &str| std::env::var(name).unwrap();
    let emit: u32 = var("SPOOL_CHILD_EMIT").parse().unwrap();
    let run: u32 = var("SPOOL_CHILD_RUN").parse().unwrap();
    let otlp = Otlp::new(var("SPOOL_CHILD_ENDPOINT"))
        .max_retries(0)
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5));
    let spool = Spool::new(var("SPOOL_CHILD_DIR"), otlp)
        .unwrap()
        // One failed attempt, then no more during this short run.
        .retry_interval(Duration::from_secs(3600), Duration::from_secs(3600));
    let monitor = spool.monitor();
    let guard = telemetry_core::init(
        telemetry_core::Config::new("spool-test", "1.0")
            .sink(spool)
            .stats_interval(None),
    );
    for n in 0..emit {
        telemetry_core::emit!(OrderPlaced { n, run });
    }
    assert!(telemetry_core::flush(Duration::from_secs(30)));
    if var("SPOOL_CHILD_MODE") == "crash" {
        println!("SPOOLED pending={}", monitor.stats().pending);
        // Killed by the parent; bounded in case the parent died.
        std::thread::sleep(Duration::from_secs(120));
        std::process::exit(3);
    }
    assert!(guard.shutdown(Duration::from_secs(30)));
    let stats = monitor.stats();
    println!(
        "DONE recovered={} pending={} delivered={}",
        stats.recovered, stats.pending, stats.delivered
    );
}

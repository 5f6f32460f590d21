//! Consent and opt-out: the transitions between `Unknown`, `Granted` and `Denied`,
//! essential categories, and the `DO_NOT_TRACK` / `TELEMETRY_DISABLED` environment
//! variables (checked in child processes, so this process's environment stays as is).
//! The pipeline and the consent state are process-global, so these tests take a lock.

use std::io;
use std::process::Command;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use telemetry_core::{
    Config, Consent, InitError, MemorySink, Record, Sink, Stats, TelemetryEvent, Value, emit,
};

static PIPELINE: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    PIPELINE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A page was viewed.
#[derive(TelemetryEvent)]
#[telemetry(name = "page.viewed", category = "navigation", owner = "growth")]
struct PageViewed {
    /// Sequence number in the test.
    seq: u64,
}

/// The application crashed.
#[derive(TelemetryEvent)]
#[telemetry(name = "app.crashed", category = "crash", owner = "platform")]
struct Crashed {
    /// Sequence number in the test.
    seq: u64,
}

const WAIT: Duration = Duration::from_secs(5);

fn config(memory: &MemorySink) -> Config {
    Config::new("consent-test", "1.0.0")
        .sink(memory.clone())
        .stats_interval(None)
}

fn seqs(records: &[Record]) -> Vec<u64> {
    records
        .iter()
        .map(|r| r.properties.get("seq").and_then(Value::as_f64).unwrap() as u64)
        .collect()
}

fn assert_balanced(s: &Stats) {
    assert_eq!(
        s.exported + s.failed + s.dropped(),
        s.emitted,
        "every event accounted for: {s:?}"
    );
}

#[test]
fn unknown_then_granted_writes_the_buffer() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        config(&memory)
            .consent(Consent::Unknown)
            .unknown_consent_buffer(3),
    );
    assert_eq!(telemetry_core::consent(), Consent::Unknown);
    for seq in 0..5 {
        emit!(PageViewed { seq });
    }
    assert!(telemetry_core::flush(WAIT));
    assert!(memory.records().is_empty(), "nothing written while unknown");
    assert_eq!(
        telemetry_core::stats().dropped_no_consent,
        2,
        "beyond the buffer"
    );

    telemetry_core::set_consent(Consent::Granted);
    assert!(telemetry_core::flush(WAIT));
    assert_eq!(seqs(&memory.records()), [0, 1, 2]);
    emit!(PageViewed { seq: 5 });
    drop(guard);
    assert_eq!(seqs(&memory.records()), [0, 1, 2, 5]);
    let s = telemetry_core::stats();
    assert_eq!((s.emitted, s.exported, s.dropped_no_consent), (6, 4, 2));
    assert_balanced(&s);
}

#[test]
fn unknown_then_denied_discards_and_counts() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        config(&memory)
            .consent(Consent::Unknown)
            .essential_category("crash"),
    );
    for seq in 0..4 {
        emit!(PageViewed { seq });
    }
    emit!(Crashed { seq: 100 });
    assert!(telemetry_core::flush(WAIT));
    assert_eq!(
        seqs(&memory.records()),
        [100],
        "essential: written while unknown"
    );

    telemetry_core::set_consent(Consent::Denied);
    assert!(telemetry_core::flush(WAIT));
    assert_eq!(telemetry_core::stats().dropped_no_consent, 4);
    // Denied: dropped on the emitting thread; essential events still go.
    emit!(PageViewed { seq: 4 });
    emit!(Crashed { seq: 101 });
    drop(guard);
    assert_eq!(seqs(&memory.records()), [100, 101]);
    let s = telemetry_core::stats();
    assert_eq!((s.emitted, s.exported, s.dropped_no_consent), (7, 2, 5));
    assert_balanced(&s);
}

#[test]
fn undecided_at_shutdown_is_discarded_and_counted() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(config(&memory).consent(Consent::Unknown));
    for seq in 0..3 {
        emit!(PageViewed { seq });
    }
    drop(guard);
    assert!(memory.records().is_empty());
    let s = telemetry_core::stats();
    assert_eq!((s.emitted, s.dropped_no_consent), (3, 3));
    assert_balanced(&s);
}

#[test]
fn categories_are_essential_only_when_marked() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(config(&memory).consent(Consent::Denied));
    emit!(Crashed { seq: 1 });
    drop(guard);
    assert!(memory.records().is_empty());
    assert_eq!(telemetry_core::stats().dropped_no_consent, 1);
}

/// A sink whose first write announces itself and then waits to be released, so the
/// test can queue events behind it.
struct Gate {
    entered: SyncSender<()>,
    release: Receiver<()>,
    first: bool,
    out: MemorySink,
}

impl Sink for Gate {
    fn name(&self) -> String {
        "gate".into()
    }
    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        if self.first {
            self.first = false;
            let _ = self.entered.send(());
            let _ = self.release.recv_timeout(WAIT);
        }
        self.out.write(records)
    }
}

#[test]
fn granted_then_denied_discards_queued_events() {
    let _l = lock();
    let memory = MemorySink::new();
    let (entered_tx, entered) = mpsc::sync_channel(1);
    let (release, release_rx) = mpsc::sync_channel(1);
    let gate = Gate {
        entered: entered_tx,
        release: release_rx,
        first: true,
        out: memory.clone(),
    };
    let guard = telemetry_core::init(
        Config::new("consent-test", "1.0.0")
            .sink(gate)
            .stats_interval(None)
            .consent(Consent::Granted),
    );
    emit!(PageViewed { seq: 0 });
    // The writer is now inside the sink with event 0; these wait in the queue.
    entered.recv_timeout(WAIT).unwrap();
    for seq in 1..=3 {
        emit!(PageViewed { seq });
    }
    telemetry_core::set_consent(Consent::Denied);
    release.send(()).unwrap();
    assert!(telemetry_core::flush(WAIT));
    drop(guard);
    assert_eq!(seqs(&memory.records()), [0]);
    let s = telemetry_core::stats();
    assert_eq!((s.emitted, s.exported, s.dropped_no_consent), (4, 1, 3));
    assert_balanced(&s);
}

/// Set by the parent test in the child's environment: run the child's checks.
const CHILD: &str = "TELEMETRY_CONSENT_TEST_CHILD";

/// Runs `env_child` in a child process of this test binary with `vars` set.
fn run_child(vars: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "env_child", "--nocapture", "--test-threads=1"]);
    for name in telemetry_core::OPT_OUT_ENV {
        cmd.env_remove(name);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "child failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn env_child() {
    let Ok(expect) = std::env::var(CHILD) else {
        return; // only meaningful in the child process
    };
    let memory = MemorySink::new();
    let guard = telemetry_core::init(config(&memory).consent(Consent::Granted));
    emit!(PageViewed { seq: 1 });
    let active = guard.is_active();
    drop(guard);
    match expect.as_str() {
        "off" => {
            assert!(
                !active,
                "the environment overrides Config::consent(Granted)"
            );
            assert!(memory.records().is_empty());
            let err = telemetry_core::try_init(config(&memory)).unwrap_err();
            assert!(matches!(err, InitError::OptedOut { .. }), "{err}");
            println!("CHILD-OK off: {err}");
        }
        _ => {
            assert!(active);
            assert_eq!(seqs(&memory.records()), [1]);
            println!("CHILD-OK on");
        }
    }
}

#[test]
fn opt_out_variables_override_the_config() {
    for var in telemetry_core::OPT_OUT_ENV {
        for value in ["1", "true"] {
            let out = run_child(&[(CHILD, "off"), (var, value)]);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                stdout.contains("CHILD-OK off") && stdout.contains(var),
                "{stdout}"
            );
            // Opting out is the user's choice, not an error worth printing.
            assert!(
                !String::from_utf8_lossy(&out.stderr).contains("telemetry disabled"),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for value in ["0", "", "false"] {
            let out = run_child(&[(CHILD, "on"), (var, value)]);
            assert!(String::from_utf8_lossy(&out.stdout).contains("CHILD-OK on"));
        }
    }
}

//! How the writer accounts for per-batch outcomes (`Sink::send` returning a
//! `Delivery`): rejected and failed events, retried requests, several sinks, and the
//! `telemetry.stats` record.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use telemetry_core::record::RecordKind;
use telemetry_core::{Config, Delivery, MemorySink, Record, Sink, TelemetryEvent, Value, emit};

/// The pipeline is process-global: one test at a time.
static PIPELINE: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    PIPELINE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A heartbeat.
#[derive(TelemetryEvent)]
#[telemetry(name = "app.heartbeat", owner = "platform")]
struct Heartbeat {
    /// Sequence number.
    seq: u64,
}

/// Rejects the first event of every batch, and counts one retried request per batch.
struct RejectsFirst(Arc<Mutex<Vec<usize>>>);

impl Sink for RejectsFirst {
    fn name(&self) -> String {
        "rejects-first".into()
    }

    fn write(&mut self, _: &[Record]) -> io::Result<()> {
        Ok(())
    }

    fn send(&mut self, records: &[Record]) -> Delivery {
        self.0.lock().unwrap().push(records.len());
        let mut outcome = Delivery::exported(records.len() - 1);
        outcome.merge(Delivery::rejected(1, "the first one is invalid"));
        outcome.retried = 1;
        outcome
    }
}

/// Fails up to two events of every batch, and claims more exports than it got
/// (the writer must not trust counts beyond the batch).
struct FailsTwo;

impl Sink for FailsTwo {
    fn name(&self) -> String {
        "fails-two".into()
    }

    fn write(&mut self, _: &[Record]) -> io::Result<()> {
        Ok(())
    }

    fn send(&mut self, records: &[Record]) -> Delivery {
        let failed = records.len().min(2);
        let mut outcome = Delivery::exported(records.len() - failed + 5);
        outcome.merge(Delivery::failed(failed, io::Error::other("down")));
        outcome
    }
}

#[test]
fn several_sinks_are_settled_conservatively_and_counters_conserve() {
    let _l = lock();
    let batches = Arc::new(Mutex::new(Vec::new()));
    let guard = telemetry_core::init(
        Config::new("t", "1")
            .stats_interval(None)
            .sink(RejectsFirst(Arc::clone(&batches)))
            .sink(FailsTwo),
    );
    assert!(guard.is_active());
    for round in 0..4 {
        for seq in 0..5 {
            emit!(Heartbeat {
                seq: round * 5 + seq
            });
        }
        assert!(telemetry_core::flush(Duration::from_secs(10)));
    }
    assert!(guard.shutdown(Duration::from_secs(10)));
    let s = telemetry_core::stats();
    assert_eq!(s.emitted, 20, "{s:?}");
    assert_eq!(s.exported + s.dropped() + s.failed, s.emitted, "{s:?}");
    // Per batch of n: failed = min(n, 2) (the worst sink), rejected = min(1, n - failed)
    // of what is left, the rest exported (never more than either sink exported).
    let batches = batches.lock().unwrap().clone();
    assert_eq!(batches.iter().sum::<usize>(), 20);
    let failed: usize = batches.iter().map(|n| (*n).min(2)).sum();
    let rejected: usize = batches.iter().map(|n| 1.min(n - (*n).min(2))).sum();
    assert_eq!(
        (s.failed, s.dropped_rejected, s.exported),
        (
            failed as u64,
            rejected as u64,
            (20 - failed - rejected) as u64
        ),
        "batches {batches:?}: {s:?}"
    );
    assert_eq!(s.retried, batches.len() as u64, "{s:?}");
}

#[test]
fn the_stats_record_carries_rejections_and_retries() {
    let _l = lock();
    struct RejectsAll;
    impl Sink for RejectsAll {
        fn name(&self) -> String {
            "rejects-all".into()
        }
        fn write(&mut self, _: &[Record]) -> io::Result<()> {
            Ok(())
        }
        fn send(&mut self, records: &[Record]) -> Delivery {
            let mut outcome = Delivery::rejected(records.len(), "invalid");
            outcome.retried = 2;
            outcome
        }
    }
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        Config::new("t", "1")
            .stats_interval(Some(Duration::from_millis(1)))
            .sink(RejectsAll)
            .sink(memory.clone()),
    );
    emit!(Heartbeat { seq: 1 });
    assert!(telemetry_core::flush(Duration::from_secs(10)));
    // Wait (bounded) for a stats record written after the event's batch.
    let mut found = None;
    for _ in 0..2500 {
        std::thread::sleep(Duration::from_millis(2));
        found = memory.records().into_iter().rev().find(|r| {
            r.kind == RecordKind::Stats
                && r.properties.get("dropped_rejected") == Some(&Value::UInt(1))
        });
        if found.is_some() {
            break;
        }
    }
    assert!(guard.shutdown(Duration::from_secs(10)));
    let stats = found.expect("a telemetry.stats record counting the rejected event");
    assert!(
        matches!(stats.properties.get("retried"), Some(Value::UInt(n)) if *n >= 2),
        "{:?}",
        stats.properties
    );
    let s = telemetry_core::stats();
    assert_eq!(
        (s.emitted, s.dropped_rejected, s.exported),
        (1, 1, 0),
        "{s:?}"
    );
}

/// Rejects the events of its first batch as invalid, then fails every later batch, as
/// a vendor that refuses one malformed event and then goes down would.
struct RejectsThenFails(usize);

impl Sink for RejectsThenFails {
    fn name(&self) -> String {
        "rejects-then-fails".into()
    }

    fn write(&mut self, _: &[Record]) -> io::Result<()> {
        Ok(())
    }

    fn send(&mut self, records: &[Record]) -> Delivery {
        self.0 += 1;
        if self.0 == 1 {
            Delivery::rejected(records.len(), "an invalid event")
        } else {
            Delivery::failed(records.len(), io::Error::other("the vendor is down"))
        }
    }
}

/// Set in the environment of the child process of `a_rejection_does_not_hide_a_later_failure`.
const REPORT_CHILD: &str = "TELEMETRY_REPORT_TEST_CHILD";

/// The child: one batch rejected, then one failed; the parent reads its stderr.
#[test]
fn report_child() {
    if std::env::var_os(REPORT_CHILD).is_none() {
        return; // only meaningful in the child process
    }
    let guard = telemetry_core::init(
        Config::new("t", "1")
            .sink(RejectsThenFails(0))
            .stats_interval(None),
    );
    emit!(Heartbeat { seq: 1 });
    telemetry_core::flush(Duration::from_secs(5));
    emit!(Heartbeat { seq: 2 });
    telemetry_core::flush(Duration::from_secs(5));
    let stats = telemetry_core::stats();
    assert_eq!((stats.dropped_rejected, stats.failed), (1, 1), "{stats:?}");
    drop(guard);
}

#[test]
fn a_rejection_does_not_hide_a_later_failure() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "report_child", "--nocapture", "--test-threads=1"])
        .env(REPORT_CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stderr}");
    assert!(
        stderr.contains("rejects-then-fails rejected events as invalid: an invalid event"),
        "{stderr}"
    );
    assert!(
        stderr.contains("writing to rejects-then-fails failed: the vendor is down"),
        "{stderr}"
    );
}

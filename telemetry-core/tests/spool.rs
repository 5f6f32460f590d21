//! The on-disk spool: parked batches are delivered in order once the inner sink
//! recovers, survive a reopen, damaged and torn entries are skipped and reported, the
//! size bound refuses new batches without dropping stored ones, and failures that
//! cannot succeed later do not block the spool. The crash test (`kill -9`) is in
//! `spool_kill.rs`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use telemetry_core::export::Spool;
use telemetry_core::{Delivery, Record, Sink};

/// How the test sink answers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Up,
    /// Fails every batch with a connection error (may succeed later).
    Down,
    /// Fails every batch as a request that can never succeed.
    Invalid,
}

#[derive(Debug)]
struct State {
    mode: Mode,
    delivered: Vec<Record>,
    calls: usize,
}

/// A sink whose availability the test switches; clones share the state.
#[derive(Clone, Debug)]
struct Switch(Arc<Mutex<State>>);

impl Switch {
    fn new(mode: Mode) -> Switch {
        Switch(Arc::new(Mutex::new(State {
            mode,
            delivered: Vec::new(),
            calls: 0,
        })))
    }
    fn set(&self, mode: Mode) {
        self.0.lock().unwrap().mode = mode;
    }
    fn delivered_ids(&self) -> Vec<uuid::Uuid> {
        self.0
            .lock()
            .unwrap()
            .delivered
            .iter()
            .map(|r| r.id)
            .collect()
    }
    fn calls(&self) -> usize {
        self.0.lock().unwrap().calls
    }
}

impl Sink for Switch {
    fn name(&self) -> String {
        "switch".into()
    }
    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        self.send(records).into_result()
    }
    fn send(&mut self, records: &[Record]) -> Delivery {
        let mut state = self.0.lock().unwrap();
        state.calls += 1;
        match state.mode {
            Mode::Up => {
                state.delivered.extend_from_slice(records);
                Delivery::exported(records.len())
            }
            Mode::Down => Delivery::failed(
                records.len(),
                io::Error::new(io::ErrorKind::ConnectionRefused, "endpoint down"),
            ),
            Mode::Invalid => Delivery::failed_permanently(
                records.len(),
                io::Error::new(io::ErrorKind::InvalidInput, "HTTP 400: malformed"),
            ),
        }
    }
}

fn batch(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| {
            Record::from_json(&format!(
                r#"{{"format":1,"type":"event","id":"{}","timestamp":"2026-11-25T18:41:11.123Z","name":"cart.item_added","version":1,"properties":{{"dish_id":{i},"note":"{}"}},"context":{{"app_name":"shop","app_version":"1.0","os":"linux","arch":"x86_64"}}}}"#,
                uuid::Uuid::now_v7(),
                "x".repeat(100)
            ))
            .unwrap()
        })
        .collect()
}

fn ids(records: &[Record]) -> Vec<uuid::Uuid> {
    records.iter().map(|r| r.id).collect()
}

/// No wait between attempts, so every call tries the inner sink.
fn open(dir: &Path, sink: &Switch) -> Spool<Switch> {
    Spool::new(dir, sink.clone())
        .unwrap()
        .retry_interval(Duration::ZERO, Duration::ZERO)
}

/// Sends `batches` through a spool in `dir` while `sink` is down, then closes the spool
/// as an exiting process would: they stay stored.
fn park(dir: &Path, sink: &Switch, batches: &[&[Record]]) {
    let mut spool = open(dir, sink);
    for batch in batches {
        spool.send(batch);
    }
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut list: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "spool"))
        .collect();
    list.sort();
    list
}

fn disk_bytes(dir: &Path) -> u64 {
    segments(dir)
        .iter()
        .map(|p| fs::metadata(p).unwrap().len())
        .sum()
}

#[test]
fn parked_batches_are_delivered_in_order_once_the_sink_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Down);
    let mut spool = open(dir.path(), &sink);
    let batches = [batch(3), batch(2), batch(4)];
    for b in &batches {
        let delivery = spool.send(b);
        // Parked: stored durably, counted as exported (see `Spool`'s "Accounting").
        assert_eq!((delivery.exported, delivery.failed), (b.len() as u64, 0));
    }
    assert_eq!(spool.stats().pending, 9);
    assert!(sink.delivered_ids().is_empty());

    sink.set(Mode::Up);
    let next = batch(1);
    let delivery = spool.send(&next);
    assert_eq!(delivery.exported, 1);
    let expected: Vec<_> = batches.iter().chain([&next]).flat_map(|b| ids(b)).collect();
    assert_eq!(sink.delivered_ids(), expected, "oldest first, each once");
    let stats = spool.stats();
    assert_eq!((stats.pending, stats.delivered), (0, 10));
}

#[test]
fn a_delivered_batch_reports_the_inner_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Up);
    let mut spool = open(dir.path(), &sink);
    let delivery = spool.send(&batch(2));
    assert_eq!((delivery.exported, delivery.failed), (2, 0));
    assert_eq!(sink.delivered_ids().len(), 2);
    assert_eq!(spool.stats().pending, 0);
}

#[test]
fn parked_events_survive_a_reopen_and_are_not_sent_twice() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Down);
    let first = batch(5);
    {
        let mut spool = open(dir.path(), &sink);
        spool.send(&first);
        assert_eq!(spool.stats().pending, 5);
    }
    sink.set(Mode::Up);
    {
        let mut spool = open(dir.path(), &sink);
        assert_eq!(spool.stats().recovered, 5);
        spool.flush().unwrap();
        assert_eq!(spool.stats().pending, 0);
    }
    assert_eq!(sink.delivered_ids(), ids(&first));
    // Nothing left: a third opening finds nothing and sends nothing.
    let spool = open(dir.path(), &sink);
    assert_eq!(spool.stats().recovered, 0);
    drop(spool);
    assert_eq!(sink.delivered_ids(), ids(&first));
}

#[test]
fn the_retry_wait_spares_the_inner_sink_while_it_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Down);
    let mut spool = Spool::new(dir.path(), sink.clone())
        .unwrap()
        .retry_interval(Duration::from_secs(3600), Duration::from_secs(3600));
    for _ in 0..5 {
        spool.send(&batch(1));
    }
    spool.flush().unwrap();
    assert_eq!(sink.calls(), 1, "one attempt, then wait");
    assert_eq!(spool.stats().pending, 5);
    sink.set(Mode::Up);
    // `drain` ignores the wait.
    assert_eq!(spool.drain(), 0);
    assert_eq!(sink.delivered_ids().len(), 5);
}

#[test]
fn a_torn_tail_is_skipped_and_the_rest_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Down);
    let (a, b) = (batch(2), batch(3));
    park(dir.path(), &sink, &[&a, &b]);
    // The process died in the middle of writing the last entry.
    let segment = segments(dir.path()).pop().unwrap();
    let len = fs::metadata(&segment).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    sink.set(Mode::Up);
    let mut spool = open(dir.path(), &sink);
    let stats = spool.stats();
    assert_eq!((stats.recovered, stats.skipped_entries), (2, 1));
    spool.flush().unwrap();
    assert_eq!(sink.delivered_ids(), ids(&a));
}

#[test]
fn a_corrupt_entry_skips_the_rest_of_its_segment_only() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Down);
    let batches: Vec<_> = (0..6).map(|_| batch(2)).collect();
    {
        // About two entries per segment.
        let mut spool = open(dir.path(), &sink).segment_bytes(700);
        for b in &batches {
            spool.send(b);
        }
    }
    let files = segments(dir.path());
    assert!(files.len() >= 3, "{files:?}");
    // Damage a byte inside the first segment's first payload.
    let mut data = fs::read(&files[0]).unwrap();
    data[8 + 8 + 40] ^= 0xff;
    fs::write(&files[0], &data).unwrap();
    let first_segment_entries = {
        // Entries in the first segment: batches whose ids are in it.
        let text = String::from_utf8_lossy(&data);
        batches
            .iter()
            .filter(|b| text.contains(&b[1].id.to_string()))
            .count()
    };
    assert!(first_segment_entries >= 1);

    sink.set(Mode::Up);
    let mut spool = open(dir.path(), &sink);
    assert_eq!(spool.stats().skipped_entries, 1);
    spool.flush().unwrap();
    let expected: Vec<_> = batches[first_segment_entries..]
        .iter()
        .flat_map(|b| ids(b))
        .collect();
    assert_eq!(sink.delivered_ids(), expected);
}

#[test]
fn damage_is_reported_on_stderr_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Down);
    park(dir.path(), &sink, &[&batch(2)]);
    let segment = segments(dir.path()).pop().unwrap();
    let mut data = fs::read(&segment).unwrap();
    let last = data.len() - 3;
    data[last] ^= 0x55;
    fs::write(&segment, &data).unwrap();
    // Opened in a child process (this binary, the ignored test below) to read its
    // standard error.
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_opens_spool", "--ignored", "--nocapture"])
        .env("SPOOL_TEST_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&segment.display().to_string()) && stderr.contains("checksum"),
        "{stderr}"
    );
}

/// Run by `damage_is_reported_on_stderr_naming_the_file` in a child process.
#[test]
#[ignore = "run by another test in a child process"]
fn child_opens_spool() {
    let Ok(dir) = std::env::var("SPOOL_TEST_DIR") else {
        return; // Only meaningful in the child process (`--include-ignored` runs it too).
    };
    let spool = Spool::new(dir, Switch::new(Mode::Up)).unwrap();
    assert_eq!(spool.stats().skipped_entries, 1);
}

#[test]
fn when_full_new_batches_are_refused_and_stored_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Down);
    let max = 4096;
    let mut spool = open(dir.path(), &sink).max_bytes(max);
    let mut stored = Vec::new();
    let mut refused = 0;
    for _ in 0..20 {
        let b = batch(2);
        let delivery = spool.send(&b);
        if delivery.failed == 0 {
            stored.extend(ids(&b));
        } else {
            assert_eq!(delivery.failed, 2);
            let error = delivery.error.unwrap();
            assert_eq!(error.kind(), io::ErrorKind::StorageFull);
            assert!(error.to_string().contains("full"), "{error}");
            refused += 2;
        }
        assert!(disk_bytes(dir.path()) <= max, "{}", disk_bytes(dir.path()));
    }
    assert!(refused > 0 && !stored.is_empty());
    assert_eq!(spool.stats().refused_full, refused);
    assert_eq!(spool.stats().pending, stored.len() as u64);

    sink.set(Mode::Up);
    assert_eq!(spool.drain(), 0);
    assert_eq!(sink.delivered_ids(), stored, "the oldest were kept");
    // Delivered segments are deleted: room again.
    let b = batch(2);
    assert_eq!(spool.send(&b).exported, 2);
}

#[test]
fn a_batch_that_can_never_succeed_is_dropped_not_retried_forever() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Invalid);
    let mut spool = open(dir.path(), &sink);
    let bad = batch(3);
    let delivery = spool.send(&bad);
    assert_eq!(delivery.failed, 3);
    assert_eq!(spool.stats().failed_permanently, 3);
    assert_eq!(spool.stats().pending, 0);
    sink.set(Mode::Up);
    let good = batch(2);
    spool.send(&good);
    assert_eq!(sink.delivered_ids(), ids(&good));
}

#[test]
fn two_spools_cannot_share_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Up);
    let _first = open(dir.path(), &sink);
    let error = Spool::new(dir.path(), sink.clone()).unwrap_err();
    assert!(error.to_string().contains("in use"), "{error}");
}

#[test]
fn an_unwritable_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    fs::write(&file, "").unwrap();
    let error = Spool::new(file.join("spool"), Switch::new(Mode::Up)).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("not-a-dir") && text.contains("writable"),
        "{text}"
    );
}

#[test]
fn conservation_holds_through_the_pipeline() {
    #[derive(telemetry_core::TelemetryEvent)]
    #[telemetry(name = "spool.test_event", owner = "tests")]
    /// An event for the spool's pipeline test.
    struct SpoolTestEvent {
        /// A number.
        n: u32,
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Up);
    let spool = open(dir.path(), &sink);
    let monitor = spool.monitor();
    let guard = telemetry_core::init(
        telemetry_core::Config::new("app", "1.0")
            .sink(spool)
            .stats_interval(None),
    );
    for n in 0..50 {
        telemetry_core::emit!(SpoolTestEvent { n });
    }
    assert!(guard.shutdown(Duration::from_secs(10)));
    let stats = telemetry_core::stats();
    assert_eq!(stats.emitted, 50);
    assert_eq!(stats.exported + stats.failed + stats.dropped(), 50);
    assert_eq!(monitor.stats().delivered, stats.exported);
    assert_eq!(sink.delivered_ids().len() as u64, stats.exported);
}

/// A sink that takes its time: each batch at least `delay`.
struct Slow(Switch, Duration);

impl Sink for Slow {
    fn name(&self) -> String {
        "slow".into()
    }
    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        self.send(records).into_result()
    }
    fn send(&mut self, records: &[Record]) -> Delivery {
        std::thread::sleep(self.1);
        self.0.send(records)
    }
}

#[test]
fn a_long_backlog_is_sent_a_slice_per_batch() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Down);
    {
        let mut spool = open(dir.path(), &sink);
        for _ in 0..10 {
            spool.send(&batch(1));
        }
    }
    sink.set(Mode::Up);
    let mut spool = Spool::new(dir.path(), Slow(sink.clone(), Duration::from_millis(300)))
        .unwrap()
        .retry_interval(Duration::ZERO, Duration::ZERO);
    assert_eq!(spool.stats().recovered, 10);
    // Each stored batch takes at least 300 ms: within the one-second budget of a call,
    // at most four are sent; the new batch waits behind the rest.
    let delivery = spool.send(&batch(1));
    assert_eq!(delivery.exported, 1);
    let sent = sink.delivered_ids().len();
    assert!((1..=4).contains(&sent), "{sent}");
    assert_eq!(spool.stats().pending, 11 - sent as u64);
    assert_eq!(spool.drain(), 0);
    assert_eq!(sink.delivered_ids().len(), 11);
}

/// Delivers the first `ok` batches, then fails them as the endpoint being down.
struct FailAfter {
    ok: usize,
    inner: Switch,
}

impl Sink for FailAfter {
    fn name(&self) -> String {
        "fail-after".into()
    }
    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        self.send(records).into_result()
    }
    fn send(&mut self, records: &[Record]) -> Delivery {
        if self.ok == 0 {
            return Delivery::failed(
                records.len(),
                io::Error::new(io::ErrorKind::ConnectionRefused, "endpoint down"),
            );
        }
        self.ok -= 1;
        self.inner.send(records)
    }
}

#[test]
fn a_damaged_ack_file_resends_rather_than_loses() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Down);
    let (a, b) = (batch(2), batch(3));
    park(dir.path(), &sink, &[&a, &b]);
    sink.set(Mode::Up);
    {
        // `a` is delivered and acknowledged, `b` fails and stays.
        let flaky = FailAfter {
            ok: 1,
            inner: sink.clone(),
        };
        let mut spool = Spool::new(dir.path(), flaky)
            .unwrap()
            .retry_interval(Duration::ZERO, Duration::ZERO);
        assert_eq!(spool.drain(), 3);
    }
    assert_eq!(sink.delivered_ids(), ids(&a));
    fs::write(dir.path().join("ack"), "garbage").unwrap();
    let mut spool = open(dir.path(), &sink);
    // Without a readable position, everything stored is sent again: `a` twice (the
    // destination drops the copy by id), `b` once, nothing lost.
    assert_eq!(spool.stats().recovered, 5);
    assert_eq!(spool.drain(), 0);
    assert_eq!(sink.delivered_ids(), [ids(&a), ids(&a), ids(&b)].concat());
}

#[test]
fn with_fsync_batches_are_stored_and_delivered_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Switch::new(Mode::Down);
    let first = batch(3);
    {
        let mut spool = open(dir.path(), &sink).fsync(true);
        spool.send(&first);
        assert_eq!(spool.stats().pending, 3);
    }
    sink.set(Mode::Up);
    let mut spool = open(dir.path(), &sink).fsync(true);
    let second = batch(2);
    spool.send(&second);
    assert_eq!(sink.delivered_ids(), [ids(&first), ids(&second)].concat());
}

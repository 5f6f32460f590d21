//! Behaviour of the pipeline: `init`, `emit!`, the JSONL file, personal data handling,
//! accounting and shutdown. The pipeline is process-global, so these tests take a lock.

use std::collections::HashSet;
use std::io;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use telemetry_core::record::RecordKind;
use telemetry_core::{
    Config, InitError, JsonlSink, MemorySink, Record, Sink, TelemetryEvent, TelemetryProperty,
    Value, emit, testing,
};

static PIPELINE: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    PIPELINE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A customer signed in.
#[derive(TelemetryEvent)]
#[telemetry(name = "user.signed_in", category = "account", owner = "identity")]
struct SignedIn<'a> {
    /// How the customer signed in.
    method: SignInMethod,
    /// E-mail address, hashed before it leaves the process.
    #[telemetry(pii = "hash")]
    email: &'a str,
    /// Phone number, replaced by a marker.
    #[telemetry(pii = "redact")]
    phone: Option<String>,
    /// Street address, never sent.
    #[telemetry(pii = "drop")]
    address: String,
    /// Attempts before success.
    attempts: u8,
    /// Promo code typed, if any.
    promo: Option<String>,
    /// Seconds the sign-in took.
    seconds: f64,
    /// Whether the account is new.
    new_account: bool,
    /// Offset from UTC in minutes.
    utc_offset_minutes: i16,
}

/// How a customer signed in.
#[derive(TelemetryProperty)]
enum SignInMethod {
    Password,
    MagicLink,
}

/// A heartbeat without properties.
#[derive(TelemetryEvent)]
#[telemetry(name = "app.heartbeat", owner = "platform")]
struct Heartbeat;

const EMAIL: &str = "planted.person@example.org";
const PHONE: &str = "+44 7700 900123";
const ADDRESS: &str = "221B Planted Street";

fn emit_sign_in(promo: Option<&str>) {
    emit!(SignedIn {
        method: SignInMethod::MagicLink,
        email: EMAIL,
        phone: Some(PHONE.into()),
        address: ADDRESS.into(),
        attempts: 2,
        promo: promo.map(Into::into),
        seconds: 1.25,
        new_account: false,
        utc_offset_minutes: -300,
    });
}

fn config(sink: &MemorySink) -> Config {
    Config::new("pipeline-test", "0.0.1")
        .sink(sink.clone())
        .pii_secret("test secret")
        .anonymous_id("anon-1")
        .session_id("session-1")
        // Exact record lists below: no `telemetry.stats` records.
        .stats_interval(None)
}

#[test]
fn jsonl_records_parse_and_carry_declared_types() {
    let _l = lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/events.jsonl");
    let guard = telemetry_core::init(
        Config::new("pipeline-test", "0.0.1")
            .jsonl(&path)
            .pii_secret("test secret")
            .user_id("user-42")
            .stats_interval(None),
    );
    assert!(guard.is_active());
    emit_sign_in(None);
    emit_sign_in(Some("WELCOME10"));
    emit!(Heartbeat);
    drop(guard);

    let text = std::fs::read_to_string(&path).unwrap();
    let records: Vec<Record> = text
        .lines()
        .map(|l| Record::from_json(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(records.len(), 3, "{text}");
    let ids: HashSet<_> = records.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 3, "ids must be unique");
    assert!(records.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));

    let first = &records[0];
    assert_eq!(first.kind, RecordKind::Event);
    assert_eq!(first.format, telemetry_core::record::RECORD_FORMAT);
    assert_eq!((first.name.as_str(), first.version), ("user.signed_in", 1));
    let p = &first.properties;
    assert_eq!(p.get("method"), Some(&Value::String("magic_link".into())));
    assert_eq!(p.get("attempts"), Some(&Value::UInt(2)));
    assert_eq!(p.get("seconds"), Some(&Value::Float(1.25)));
    assert_eq!(p.get("new_account"), Some(&Value::Bool(false)));
    assert_eq!(p.get("utc_offset_minutes"), Some(&Value::Int(-300)));
    // `None` options are absent, never null; dropped PII is absent.
    assert_eq!(p.get("promo"), None);
    assert_eq!(p.get("address"), None);
    assert!(!text.lines().next().unwrap().contains("null"));
    assert_eq!(
        records[1].properties.get("promo"),
        Some(&Value::from("WELCOME10"))
    );
    // Declaration order is kept.
    let names: Vec<&str> = p.iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "method",
            "email",
            "phone",
            "attempts",
            "seconds",
            "new_account",
            "utc_offset_minutes"
        ]
    );

    let ctx = &first.context;
    assert_eq!(
        (ctx.app_name.as_str(), ctx.app_version.as_str()),
        ("pipeline-test", "0.0.1")
    );
    assert_eq!(ctx.user_id.as_deref(), Some("user-42"));
    assert!(ctx.anonymous_id.is_some() && ctx.session_id.is_some());
    assert_eq!(ctx.os, std::env::consts::OS);
    assert!(records[2].properties.is_empty());
}

#[test]
fn personal_data_never_reaches_a_sink() {
    let _l = lock();
    let dir = tempfile::tempdir().unwrap();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(config(&memory).jsonl(dir.path().join("e.jsonl")));
    emit_sign_in(None);
    assert!(telemetry_core::flush(Duration::from_secs(5)));
    let file = std::fs::read_to_string(dir.path().join("e.jsonl")).unwrap();
    drop(guard);

    let records = memory.records();
    assert_eq!(records.len(), 1);
    let outputs = [
        file,
        records.iter().map(Record::to_json).collect::<String>(),
        format!("{:?}", telemetry_core::stats()),
    ];
    for out in &outputs {
        for planted in [EMAIL, PHONE, ADDRESS, "planted"] {
            assert!(!out.contains(planted), "`{planted}` leaked into: {out}");
        }
    }
    let p = &records[0].properties;
    let hashed = p.get("email").and_then(Value::as_str).unwrap();
    assert_eq!(hashed.len(), 2 * telemetry_core::HASH_BYTES);
    assert!(hashed.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(p.get("phone"), Some(&Value::from(telemetry_core::REDACTED)));
}

/// A sink that always fails, so the writer prints its one error message on stderr.
struct Refusing;
impl Sink for Refusing {
    fn name(&self) -> String {
        "refusing".into()
    }
    fn write(&mut self, _: &[Record]) -> io::Result<()> {
        Err(io::Error::other("refused"))
    }
}

/// Set in the environment of the child process of `planted_values_reach_no_output`.
const PLANT_CHILD: &str = "TELEMETRY_PLANTED_TEST_CHILD";

/// The child: every sink at once (stdout, JSONL, memory, a failing one), periodic stats
/// records, and the stderr messages of a failing sink, a refused start and a shutdown.
#[test]
fn planted_child() {
    let Some(dir) = std::env::var_os(PLANT_CHILD) else {
        return; // only meaningful in the child process
    };
    let dir = std::path::PathBuf::from(dir);
    // A refused start prints its reason on stderr.
    let refused = telemetry_core::init(Config::new("t", "1").sink(MemorySink::new()));
    assert!(!refused.is_active());
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        config(&memory)
            .stdout()
            .jsonl(dir.join("e.jsonl"))
            .sink(Refusing)
            .stats_interval(Some(Duration::from_millis(1))),
    );
    assert!(guard.is_active());
    emit_sign_in(Some("planted promo"));
    emit_sign_in(None);
    assert!(telemetry_core::flush(Duration::from_secs(5)));
    std::thread::sleep(Duration::from_millis(120)); // a few stats records
    drop(guard);
    let records = memory.records();
    assert!(records.iter().any(|r| r.kind == RecordKind::Stats));
    let memory_out: String = records.iter().map(Record::to_json).collect();
    std::fs::write(dir.join("memory.jsonl"), memory_out).unwrap();
    std::fs::write(
        dir.join("stats.txt"),
        format!("{:?}", telemetry_core::stats()),
    )
    .unwrap();
}

#[test]
fn planted_values_reach_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "planted_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PLANT_CHILD, dir.path())
        .env_remove(telemetry_core::PII_SECRET_ENV)
        .env_remove("DO_NOT_TRACK")
        .env_remove("TELEMETRY_DISABLED")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "child failed: {stdout}{stderr}");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let (file, memory, stats) = (read("e.jsonl"), read("memory.jsonl"), read("stats.txt"));
    // Every sink got the events and the stats records; stderr got its messages.
    for out in [&stdout, &file, &memory] {
        assert_eq!(
            out.matches("\"name\":\"user.signed_in\"").count(),
            2,
            "{out}"
        );
        assert!(out.contains("\"type\":\"stats\""), "{out}");
    }
    assert!(
        stderr.contains("no secret key") && stderr.contains("refused"),
        "{stderr}"
    );
    for (what, out) in [
        ("stdout", &stdout),
        ("stderr", &stderr),
        ("the JSONL file", &file),
        ("the memory sink", &memory),
        ("stats()", &stats),
    ] {
        for planted in [EMAIL, PHONE, ADDRESS, "221B", "7700"] {
            assert!(
                !out.contains(planted),
                "`{planted}` leaked into {what}: {out}"
            );
        }
    }
    // The promo code is not personal data: it is sent as is (the test sees the output).
    assert!(stdout.contains("planted promo"));
}

#[test]
fn hashing_is_stable_within_a_key_and_differs_across_keys() {
    let _l = lock();
    let hash_with = |secret: &str| {
        let memory = MemorySink::new();
        let guard = telemetry_core::init(config(&memory).pii_secret(secret));
        emit_sign_in(None);
        emit_sign_in(None);
        drop(guard);
        let r = memory.records();
        let h: Vec<Value> = r
            .iter()
            .map(|r| r.properties.get("email").unwrap().clone())
            .collect();
        assert_eq!(h[0], h[1], "same input, same key: same hash (joins work)");
        h[0].clone()
    };
    assert_ne!(hash_with("key one"), hash_with("key two"));
}

#[test]
fn refuses_to_hash_without_a_secret() {
    if std::env::var_os(telemetry_core::PII_SECRET_ENV).is_some() {
        eprintln!(
            "skipped: {} is set in the environment",
            telemetry_core::PII_SECRET_ENV
        );
        return;
    }
    let _l = lock();
    let memory = MemorySink::new();
    let err = telemetry_core::try_init(Config::new("t", "1").sink(memory.clone())).unwrap_err();
    assert!(
        matches!(&err, InitError::MissingPiiSecret { event, property }
        if event == "user.signed_in" && property == "email")
    );
    let msg = err.to_string();
    assert!(
        msg.contains("pii_secret") && msg.contains(telemetry_core::PII_SECRET_ENV),
        "{msg}"
    );

    // `init` degrades to telemetry off instead of failing the application.
    let guard = telemetry_core::init(Config::new("t", "1").sink(memory.clone()));
    assert!(!guard.is_active());
    emit_sign_in(None);
    drop(guard);
    assert!(memory.records().is_empty());
}

#[test]
fn one_pipeline_at_a_time() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::try_init(config(&memory)).unwrap();
    let second = telemetry_core::try_init(config(&memory));
    assert!(matches!(second, Err(InitError::AlreadyRunning)));
    drop(guard);
    // After the guard is gone a new pipeline can start.
    let again = telemetry_core::try_init(config(&memory)).unwrap();
    drop(again);
}

#[test]
fn nothing_happens_before_init() {
    let _l = lock();
    let before = telemetry_core::stats();
    emit_sign_in(None);
    emit!(Heartbeat);
    assert_eq!(telemetry_core::stats(), before);
    assert!(telemetry_core::flush(Duration::from_millis(10)));
}

#[test]
fn unopenable_file_is_a_clear_error() {
    let _l = lock();
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let path = blocker.join("events.jsonl");
    let err =
        telemetry_core::try_init(Config::new("t", "1").jsonl(&path).pii_secret("k")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("Config::jsonl"),
        "{msg}"
    );
    let err = JsonlSink::create(&path).unwrap_err();
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

/// A sink that fails every write.
struct BrokenSink;
impl Sink for BrokenSink {
    fn name(&self) -> String {
        "broken".into()
    }
    fn write(&mut self, _: &[Record]) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
    }
}

/// A sink that panics on its first batch.
struct PanickySink(bool, MemorySink);
impl Sink for PanickySink {
    fn name(&self) -> String {
        "panicky".into()
    }
    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        if !self.0 {
            self.0 = true;
            panic!("sink bug");
        }
        self.1.write(records)
    }
}

#[test]
fn a_panicking_sink_costs_its_batch_only() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        Config::new("t", "1")
            .sink(PanickySink(false, memory.clone()))
            .stats_interval(None)
            .pii_secret("k"),
    );
    emit!(Heartbeat);
    assert!(telemetry_core::flush(Duration::from_secs(5)));
    emit!(Heartbeat);
    drop(guard);
    let s = telemetry_core::stats();
    assert_eq!((s.emitted, s.failed, s.exported), (2, 1, 1), "{s:?}");
    assert_eq!(memory.records().len(), 1);
}

/// A sink that waits on every batch, to fill the queue.
struct SlowSink(Duration, MemorySink);
impl Sink for SlowSink {
    fn name(&self) -> String {
        "slow".into()
    }
    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        std::thread::sleep(self.0);
        self.1.write(records)
    }
}

#[test]
fn failures_are_counted_not_raised() {
    let _l = lock();
    let guard = telemetry_core::init(Config::new("t", "1").sink(BrokenSink).pii_secret("k"));
    for _ in 0..10 {
        emit!(Heartbeat);
    }
    drop(guard);
    let s = telemetry_core::stats();
    assert_eq!((s.emitted, s.failed, s.exported), (10, 10, 0));
}

#[test]
fn full_queue_drops_newest_and_every_event_is_accounted_for() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        Config::new("t", "1")
            .sink(SlowSink(Duration::from_millis(20), memory.clone()))
            .queue_capacity(4)
            .stats_interval(None)
            .pii_secret("k"),
    );
    for _ in 0..200 {
        emit!(Heartbeat);
    }
    drop(guard);
    let s = telemetry_core::stats();
    assert_eq!(s.emitted, 200);
    assert!(s.dropped_queue_full > 0, "{s:?}");
    assert_eq!(
        s.exported + s.dropped_queue_full + s.failed,
        s.emitted,
        "{s:?}"
    );
    assert_eq!(memory.records().len() as u64, s.exported);
}

#[test]
fn shutdown_with_a_hung_sink_returns_after_the_timeout() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        Config::new("t", "1")
            .sink(SlowSink(Duration::from_secs(3), memory))
            .pii_secret("k"),
    );
    emit!(Heartbeat);
    std::thread::sleep(Duration::from_millis(50)); // the writer is now inside the sink
    emit!(Heartbeat);
    let started = std::time::Instant::now();
    assert!(!guard.shutdown(Duration::from_millis(100)));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn captured_events_stay_out_of_the_sinks() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(config(&memory));
    let captured = testing::capture(|| emit_sign_in(None));
    emit!(Heartbeat);
    drop(guard);
    assert_eq!(captured.names(), ["user.signed_in"]);
    // Tests see raw values; the schema says how each leaves the process.
    assert_eq!(captured[0]["email"], EMAIL);
    let names: Vec<String> = memory.records().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["app.heartbeat"]);
}

#[test]
fn captures_are_isolated_per_thread() {
    let threads: Vec<_> = (0..8u8)
        .map(|t| {
            std::thread::spawn(move || {
                let captured = testing::capture(|| {
                    for i in 0..50 {
                        emit!(SignedIn {
                            method: SignInMethod::Password,
                            email: "x",
                            phone: None,
                            address: String::new(),
                            attempts: t,
                            promo: None,
                            seconds: f64::from(i),
                            new_account: true,
                            utc_offset_minutes: 0,
                        });
                    }
                });
                assert_eq!(captured.len(), 50);
                assert!(captured.iter().all(|e| e["attempts"] == t));
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn nested_captures_and_panics() {
    let outer = testing::capture(|| {
        emit!(Heartbeat);
        let inner = testing::capture(|| emit!(Heartbeat));
        assert_eq!(inner.len(), 1);
        emit!(Heartbeat);
    });
    assert_eq!(outer.len(), 2);
    assert_eq!(outer.of::<Heartbeat>().count(), 2);

    let panicked = std::panic::catch_unwind(|| {
        testing::capture(|| {
            emit!(Heartbeat);
            panic!("boom");
        })
    });
    assert!(panicked.is_err());
    // The aborted scope left nothing behind.
    let after = testing::capture(|| {});
    assert!(after.is_empty());
}

#[test]
fn a_switched_off_event_is_dropped_and_counted() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(config(&memory));
    assert_eq!(telemetry_core::set_event_enabled("app.heartbeat", false), 1);
    for _ in 0..3 {
        emit!(Heartbeat);
    }
    // Tests still see what the code emits.
    assert_eq!(testing::capture(|| emit!(Heartbeat)).len(), 1);
    assert_eq!(telemetry_core::set_event_enabled("app.heartbeat", true), 1);
    emit!(Heartbeat);
    emit_sign_in(None);
    drop(guard);
    let names: Vec<String> = memory.records().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["app.heartbeat", "user.signed_in"]);
    let s = telemetry_core::stats();
    assert_eq!(
        (s.emitted, s.dropped_disabled, s.exported),
        (5, 3, 2),
        "{s:?}"
    );
    assert_eq!(s.exported + s.failed + s.dropped(), s.emitted);
}

/// Parses every line of a JSONL file, naming the line that does not parse.
fn read_records(path: &std::path::Path) -> Vec<Record> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| Record::from_json(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The millisecond a UUID v7 id carries.
fn id_millis(id: uuid::Uuid) -> u64 {
    let (secs, nanos) = id.get_timestamp().expect("a v7 id").to_unix();
    secs * 1000 + u64::from(nanos) / 1_000_000
}

#[test]
fn a_manual_clock_stamps_events_and_ids_stay_unique_and_ordered() {
    use std::time::{SystemTime, UNIX_EPOCH};
    let _l = lock();
    let start = UNIX_EPOCH + Duration::from_millis(1_893_456_000_000); // 2030-01-01
    let dir = tempfile::tempdir().unwrap();
    // The JSONL file takes the direct formatting path, the memory sink the records.
    let path = dir.path().join("events.jsonl");
    let memory = MemorySink::new();
    for with_memory in [false, true] {
        let clock = telemetry_core::ManualClock::new(start);
        let mut config = Config::new("simulation", "1")
            .clock(clock.clone())
            .stats_interval(None)
            .pii_secret("k");
        config = if with_memory {
            config.sink(memory.clone())
        } else {
            config.jsonl(&path)
        };
        let guard = telemetry_core::init(config);
        emit!(Heartbeat);
        clock.advance(Duration::from_millis(1500));
        for _ in 0..3 {
            emit!(Heartbeat);
        }
        clock.advance(Duration::from_micros(999)); // less than a millisecond
        emit!(Heartbeat);
        clock.set(start - Duration::from_secs(3600)); // back in time
        emit!(Heartbeat);
        assert!(guard.shutdown(Duration::from_secs(10)));

        let records = if with_memory {
            memory.take()
        } else {
            read_records(&path)
        };
        let millis: Vec<u64> = records.iter().map(|r| r.timestamp.unix_millis()).collect();
        let t0 = 1_893_456_000_000;
        assert_eq!(
            millis,
            [
                t0,
                t0 + 1500,
                t0 + 1500,
                t0 + 1500,
                t0 + 1500,
                t0 - 3_600_000
            ],
            "memory sink: {with_memory}"
        );
        let ids: Vec<uuid::Uuid> = records.iter().map(|r| r.id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        for (id, millis) in ids.iter().zip(&millis).take(5) {
            assert_eq!(id_millis(*id), *millis);
        }
        // The id of the event stamped in the past keeps the latest time, so ids
        // still sort in the order the events were written.
        assert_eq!(id_millis(ids[5]), t0 + 1500);
        assert!(
            SystemTime::now() < start,
            "the test assumes a start in the future"
        );
    }
}

#[test]
fn the_output_ends_with_the_totals() {
    let _l = lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let guard = telemetry_core::init(
        Config::new("pipeline-test", "0.0.1")
            .jsonl(&path)
            .pii_secret("k"),
    );
    emit_sign_in(None);
    emit!(Heartbeat);
    assert_eq!(telemetry_core::set_event_enabled("app.heartbeat", false), 1);
    emit!(Heartbeat);
    assert_eq!(telemetry_core::set_event_enabled("app.heartbeat", true), 1);
    drop(guard);

    let records = read_records(&path);
    let kinds: Vec<RecordKind> = records.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [RecordKind::Event, RecordKind::Event, RecordKind::Stats],
        "one stats record, at the end"
    );
    let last = records.last().unwrap();
    assert_eq!(last.name, telemetry_core::STATS_RECORD_NAME);
    let count = |name: &str| match last.properties.get(name) {
        Some(Value::UInt(n)) => *n,
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(
        (
            count("emitted"),
            count("exported"),
            count("dropped_disabled")
        ),
        (3, 2, 1)
    );
    let dropped: u64 = [
        "dropped_queue_full",
        "dropped_disabled",
        "dropped_sampled_out",
        "dropped_no_consent",
    ]
    .into_iter()
    .map(count)
    .sum();
    assert_eq!(
        count("emitted"),
        count("exported") + dropped + count("failed")
    );
    // The bytes of the two event lines, written before the totals.
    let events_bytes: usize = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .take(2)
        .map(|l| l.len() + 1)
        .sum();
    assert_eq!(count("written_bytes"), events_bytes as u64);

    // Without stats records, none at shutdown either.
    let quiet = dir.path().join("quiet.jsonl");
    let guard = telemetry_core::init(
        Config::new("pipeline-test", "0.0.1")
            .jsonl(&quiet)
            .stats_interval(None)
            .pii_secret("k"),
    );
    emit!(Heartbeat);
    drop(guard);
    let records = read_records(&quiet);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].kind, RecordKind::Event);
}

//! Delivery guarantees of the pipeline under stress: exact accounting under
//! contention, a sink that hangs, a sink that fails now and then, per-thread order,
//! events that do not fit a queue slot, the periodic stats record, and shutdown after a
//! panic. The pipeline is process-global, so these tests take a lock.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use telemetry_core::record::RecordKind;
use telemetry_core::{
    Config, MemorySink, Record, STATS_RECORD_NAME, Sink, Stats, TelemetryEvent, TelemetryProperty,
    Value, emit,
};

static PIPELINE: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    PIPELINE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A dish was added to a cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added", owner = "growth")]
struct CartItemAdded<'a> {
    /// Emitting thread (test bookkeeping).
    thread: u64,
    /// Sequence number within the thread.
    seq: u64,
    /// Price in cents.
    price_cents: u32,
    /// Portions.
    quantity: u8,
    /// Where the dish was found.
    source: AddSource,
    /// Coupon code, if any.
    coupon: Option<&'a str>,
}

/// Where a dish was found.
#[derive(TelemetryProperty)]
enum AddSource {
    Menu,
    Search,
}

fn emit_item(thread: u64, seq: u64) {
    emit!(CartItemAdded {
        thread,
        seq,
        price_cents: (seq % 10_000) as u32,
        quantity: (seq % 7) as u8,
        source: if seq.is_multiple_of(2) {
            AddSource::Menu
        } else {
            AddSource::Search
        },
        coupon: seq.is_multiple_of(3).then_some("WELCOME10"),
    });
}

/// Checks one exported record carries exactly what `emit_item` sent.
fn check_intact(r: &Record) -> (u64, u64) {
    let p = &r.properties;
    let (Some(&Value::UInt(thread)), Some(&Value::UInt(seq))) = (p.get("thread"), p.get("seq"))
    else {
        panic!("bad record {r:?}");
    };
    assert_eq!(
        p.get("price_cents"),
        Some(&Value::UInt(seq % 10_000)),
        "{r:?}"
    );
    assert_eq!(p.get("quantity"), Some(&Value::UInt(seq % 7)), "{r:?}");
    let source = if seq.is_multiple_of(2) {
        "menu"
    } else {
        "search"
    };
    assert_eq!(p.get("source"), Some(&Value::from(source)), "{r:?}");
    let coupon = seq.is_multiple_of(3).then(|| Value::from("WELCOME10"));
    assert_eq!(p.get("coupon"), coupon.as_ref(), "{r:?}");
    (thread, seq)
}

/// Every exported record is intact and unique, and each thread's records are in the
/// order it emitted them.
fn check_records(records: &[Record]) {
    let mut last: HashMap<u64, u64> = HashMap::new();
    for r in records.iter().filter(|r| r.kind == RecordKind::Event) {
        let (thread, seq) = check_intact(r);
        if let Some(prev) = last.insert(thread, seq) {
            assert!(seq > prev, "thread {thread}: {seq} written after {prev}");
        }
    }
}

fn assert_balanced(s: &Stats) {
    assert_eq!(
        s.exported + s.failed + s.dropped(),
        s.emitted,
        "counters must balance after shutdown: {s:?}"
    );
    assert_eq!(s.lost(), 0, "{s:?}");
}

/// Sleeps on every batch.
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

fn emit_from_threads(threads: u64, per_thread: u64) {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            std::thread::spawn(move || {
                for seq in 0..per_thread {
                    emit_item(t, seq);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn conservation_under_contention_with_a_tiny_queue_and_a_slow_sink() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        Config::new("delivery", "1")
            .sink(SlowSink(Duration::from_micros(300), memory.clone()))
            .queue_capacity(64)
            .stats_interval(None),
    );
    emit_from_threads(4, 100_000);
    assert!(guard.shutdown(Duration::from_secs(30)));
    let s = telemetry_core::stats();
    assert_eq!(s.emitted, 400_000, "{s:?}");
    assert!(s.dropped_queue_full > 0, "{s:?}");
    assert_balanced(&s);
    let records = memory.records();
    assert_eq!(records.len() as u64, s.exported);
    check_records(&records);
    let unique: std::collections::HashSet<_> = records.iter().map(|r| r.id).collect();
    assert_eq!(unique.len(), records.len(), "ids are unique");
}

#[test]
fn per_thread_order_is_kept() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        Config::new("delivery", "1")
            .sink(memory.clone())
            .queue_capacity(1 << 16)
            .stats_interval(None),
    );
    emit_from_threads(8, 5_000);
    drop(guard);
    let s = telemetry_core::stats();
    assert_balanced(&s);
    let records = memory.records();
    assert_eq!(records.len() as u64, s.exported);
    check_records(&records);
}

/// Never returns from its first write.
struct HungSink(Arc<AtomicU64>);
impl Sink for HungSink {
    fn name(&self) -> String {
        "hung".into()
    }
    fn write(&mut self, _: &[Record]) -> io::Result<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        loop {
            std::thread::park();
        }
    }
}

#[test]
fn a_sink_that_blocks_forever_blocks_neither_emit_nor_shutdown() {
    let _l = lock();
    let entered = Arc::new(AtomicU64::new(0));
    let guard = telemetry_core::init(
        Config::new("delivery", "1")
            .sink(HungSink(entered.clone()))
            .queue_capacity(256)
            .stats_interval(None),
    );
    emit_item(0, 0);
    while entered.load(Ordering::SeqCst) == 0 {
        assert!(!telemetry_core::flush(Duration::from_millis(10)));
    }
    // The writer is stuck inside the sink: a tight loop of emits still completes.
    for seq in 1..200_000 {
        emit_item(0, seq);
    }
    let before = telemetry_core::stats();
    assert_eq!(before.emitted, 200_000, "{before:?}");
    assert!(before.dropped_queue_full >= 200_000 - 257, "{before:?}");
    // Shutdown gives up after its timeout and reports what it could not write.
    assert!(!guard.shutdown(Duration::from_millis(100)));
    let s = telemetry_core::stats();
    assert!(s.lost() >= 1, "{s:?}");
    assert_eq!(s.exported, 0, "{s:?}");
}

/// Fails every third batch.
struct Flaky(u64, MemorySink);
impl Sink for Flaky {
    fn name(&self) -> String {
        "flaky".into()
    }
    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        self.0 += 1;
        if self.0.is_multiple_of(3) {
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "flaky"));
        }
        self.1.write(records)
    }
}

#[test]
fn intermittent_sink_failures_are_counted() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        Config::new("delivery", "1")
            .sink(Flaky(0, memory.clone()))
            .stats_interval(None),
    );
    for seq in 0..60 {
        emit_item(0, seq);
        // One batch per event, so failures hit every third.
        assert!(telemetry_core::flush(Duration::from_secs(10)));
    }
    drop(guard);
    let s = telemetry_core::stats();
    assert_eq!(s.emitted, 60);
    assert_eq!((s.exported, s.failed), (40, 20), "{s:?}");
    assert_balanced(&s);
    let records = memory.records();
    assert_eq!(records.len(), 40);
    check_records(&records);
}

/// A search with a long query.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed", owner = "discovery")]
struct SearchPerformed {
    /// What was typed.
    query: String,
    /// Results shown.
    results: u32,
}

#[test]
fn events_too_big_for_a_slot_arrive_intact() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        Config::new("delivery", "1")
            .sink(memory.clone())
            .stats_interval(None),
    );
    let long = "ramen ".repeat(500);
    emit!(SearchPerformed {
        query: long.clone(),
        results: 3
    });
    emit!(SearchPerformed {
        query: "pho".into(),
        results: 4
    });
    drop(guard);
    let r = memory.records();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].properties.get("query"), Some(&Value::from(long)));
    assert_eq!(r[0].properties.get("results"), Some(&Value::UInt(3)));
    assert_eq!(r[1].properties.get("query"), Some(&Value::from("pho")));
}

#[test]
fn the_byte_budget_bounds_what_long_events_hold() {
    let _l = lock();
    let memory = MemorySink::new();
    let entered = Arc::new(AtomicU64::new(0));
    let guard = telemetry_core::init(
        Config::new("delivery", "1")
            .sink(HungSink(entered.clone()))
            .sink(memory)
            .queue_bytes(64 * 1024)
            .stats_interval(None),
    );
    emit_item(0, 0);
    while entered.load(Ordering::SeqCst) == 0 {
        assert!(!telemetry_core::flush(Duration::from_millis(10)));
    }
    // The writer is stuck inside the sink.
    let long = "x".repeat(1000);
    for _ in 0..1000 {
        emit!(SearchPerformed {
            query: long.clone(),
            results: 1
        });
    }
    // At most 64 KiB of ~1 KiB spills are queued; the rest is dropped and counted.
    let s = telemetry_core::stats();
    assert_eq!(s.emitted, 1001);
    assert!(s.dropped_queue_full >= 900, "{s:?}");
    assert!(!guard.shutdown(Duration::from_millis(50)));
}

#[test]
fn stats_records_are_written_periodically() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        Config::new("delivery", "1")
            .sink(memory.clone())
            .stats_interval(Some(Duration::from_millis(5))),
    );
    emit_item(0, 0);
    let stats = loop {
        assert!(telemetry_core::flush(Duration::from_secs(10)));
        let records = memory.records();
        if let Some(s) = records.iter().find(|r| r.kind == RecordKind::Stats) {
            break s.clone();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    drop(guard);
    assert_eq!(stats.name, STATS_RECORD_NAME);
    assert!(stats.properties.get("emitted").is_some());
    assert!(stats.properties.get("dropped_queue_full").is_some());
    // A stats record reads back as a record and is not an event.
    let back = Record::from_json(&stats.to_json()).unwrap();
    assert_eq!(back.kind, RecordKind::Stats);
    let s = telemetry_core::stats();
    assert_eq!(s.emitted, 1);
    assert_balanced(&s);
}

#[test]
fn shutdown_after_a_panic_in_another_thread_writes_everything() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        Config::new("delivery", "1")
            .sink(memory.clone())
            .stats_interval(None),
    );
    let panicked = std::thread::spawn(|| {
        emit_item(1, 0);
        panic!("request handler bug");
    })
    .join();
    assert!(panicked.is_err());
    emit_item(0, 0);
    drop(guard);
    assert_eq!(memory.records().len(), 2);
    assert_balanced(&telemetry_core::stats());
}

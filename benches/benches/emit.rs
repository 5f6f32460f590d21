//! The caller-thread cost of emitting one event with 6 properties (u64, u64, u32, u8,
//! enum, Option<short string>), side by side with the usual Rust stacks, each set up
//! as its users set it up and with its drain running:
//!
//! - `telemetry-core`: `emit!` to the JSONL sink;
//! - `tracing` + `tracing-subscriber`'s JSON formatter + `tracing-appender::non_blocking`
//!   to a file;
//! - an untyped SDK pattern: a `HashMap<String, serde_json::Value>` sent with
//!   `try_send` on a bounded `std::sync::mpsc` channel to a thread writing JSON lines;
//! - OpenTelemetry logs through `opentelemetry-appender-tracing` and the SDK's
//!   `BatchLogProcessor` (its own thread), with an exporter that reads every record.
//!
//! Modes: *disabled*; *burst* (back-to-back, the drain keeps up: batches of 1,000 with
//! an untimed drain between them); *idle* (one event after the drain has been idle for
//! 3 ms, timed alone); *saturated* (the drain is stalled, the queue full: the drop
//! path). Medians over many samples; allocations counted on the calling thread with a
//! counting global allocator. Then pipeline throughput to the JSONL file with 1 and 2
//! producers, and peak RSS of a 10-million-event burst (in a child process).
//!
//! `cargo bench -p telemetry-benches --bench emit` prints a Markdown table. Single
//! parts, repeated, run the built binary (`target/release/deps/emit-*`) with:
//! `TELEMETRY_BENCH_THROUGHPUT=n` (pipeline throughput, n runs each, with the median),
//! `TELEMETRY_BENCH_IDLE=n` (idle emits, with the floors and the same with the writer
//! blocked in its sink or the event switched off; `TELEMETRY_BENCH_IDLE_QUEUE` sets the
//! queue size), `TELEMETRY_BENCH_CALLGRIND=1` (10,000 emits to count instructions).
#![allow(missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::hint::black_box;
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::{BatchLogProcessor, LogBatch, LogExporter, SdkLoggerProvider};
use telemetry_core::{Config, Record, Sink, TelemetryEvent, TelemetryProperty, emit};
use tracing_subscriber::layer::SubscriberExt;

// ---------------------------------------------------------------- allocation counting

struct Counting;
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
fn note() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}
// SAFETY: forwards every call to the system allocator unchanged; counting touches only
// an atomic and a const-initialized thread-local `Cell`.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;

// ---------------------------------------------------------------- the event

/// A dish was added to a cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added", owner = "growth")]
struct CartItemAdded<'a> {
    /// Restaurant.
    restaurant_id: u64,
    /// Dish.
    dish_id: u64,
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
#[derive(TelemetryProperty, Clone, Copy)]
enum AddSource {
    Menu,
    Search,
}

impl AddSource {
    fn as_str(self) -> &'static str {
        match self {
            AddSource::Menu => "menu",
            AddSource::Search => "search",
        }
    }
}

fn source(i: u64) -> AddSource {
    if i.is_multiple_of(2) {
        AddSource::Menu
    } else {
        AddSource::Search
    }
}

#[inline(never)]
fn emit_ours(i: u64) {
    emit!(CartItemAdded {
        restaurant_id: 42,
        dish_id: i,
        price_cents: 1250,
        quantity: 2,
        source: source(i),
        coupon: Some("WELCOME10"),
    });
}

#[inline(never)]
fn emit_tracing(i: u64) {
    let coupon = black_box(Some("WELCOME10"));
    tracing::info!(
        name: "cart.item_added",
        restaurant_id = 42u64,
        dish_id = i,
        price_cents = 1250u32,
        quantity = 2u8,
        source = source(i).as_str(),
        coupon = coupon.unwrap_or_default(),
    );
}

static DISABLED_FLAG: AtomicBool = AtomicBool::new(false);

#[inline(never)]
fn emit_flag(i: u64) {
    if DISABLED_FLAG.load(Ordering::Relaxed) {
        black_box(i);
    }
}

/// The untyped SDK pattern.
struct Untyped {
    tx: mpsc::SyncSender<(String, HashMap<String, serde_json::Value>)>,
    written: Arc<AtomicU64>,
    dropped: u64,
}

impl Untyped {
    fn start(stall: Arc<AtomicBool>) -> (Untyped, std::thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::sync_channel::<(String, HashMap<String, serde_json::Value>)>(8192);
        let written = Arc::new(AtomicU64::new(0));
        let w = Arc::clone(&written);
        let file = tempfile::tempfile().unwrap();
        let handle = std::thread::spawn(move || {
            let mut out = BufWriter::new(file);
            while let Ok((name, props)) = rx.recv() {
                while stall.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                let line = serde_json::json!({"event": name, "properties": props});
                serde_json::to_writer(&mut out, &line).unwrap();
                out.write_all(b"\n").unwrap();
                w.fetch_add(1, Ordering::Relaxed);
            }
            out.flush().unwrap();
        });
        (
            Untyped {
                tx,
                written,
                dropped: 0,
            },
            handle,
        )
    }

    #[inline(never)]
    fn capture(&mut self, i: u64) {
        let mut props = HashMap::new();
        props.insert("restaurant_id".to_string(), serde_json::json!(42u64));
        props.insert("dish_id".to_string(), serde_json::json!(i));
        props.insert("price_cents".to_string(), serde_json::json!(1250u32));
        props.insert("quantity".to_string(), serde_json::json!(2u8));
        props.insert("source".to_string(), serde_json::json!(source(i).as_str()));
        props.insert("coupon".to_string(), serde_json::json!(Some("WELCOME10")));
        if self
            .tx
            .try_send(("cart.item_added".to_string(), props))
            .is_err()
        {
            self.dropped += 1;
        }
    }
}

/// An OpenTelemetry exporter that reads every record (and can be stalled).
#[derive(Debug, Clone)]
struct ReadingExporter {
    seen: Arc<AtomicU64>,
    stall: Arc<AtomicBool>,
}

impl LogExporter for ReadingExporter {
    async fn export(&self, batch: LogBatch<'_>) -> opentelemetry_sdk::error::OTelSdkResult {
        while self.stall.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
        }
        for (record, _) in batch.iter() {
            black_box(record.attributes_iter().count());
            self.seen.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// A JSONL file sink that can be stalled.
struct StallableJsonl(telemetry_core::JsonlSink, Arc<AtomicBool>);
impl Sink for StallableJsonl {
    fn name(&self) -> String {
        self.0.name()
    }
    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        while self.1.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.0.write(records)
    }
    fn bytes_written(&self) -> u64 {
        self.0.bytes_written()
    }
    fn accepts_json_lines(&self) -> bool {
        true
    }
    fn write_json_lines(&mut self, lines: &[u8]) -> io::Result<()> {
        while self.1.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.0.write_json_lines(lines)
    }
}

/// A tracing-appender writer that can be stalled.
struct StallableFile(std::fs::File, Arc<AtomicBool>);
impl Write for StallableFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        while self.1.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

// ---------------------------------------------------------------- measurement

#[derive(Clone, Copy)]
struct Cost {
    ns: f64,
    allocs: f64,
    /// The 90th percentile (single timed calls only; the median otherwise).
    p90: f64,
}

fn percentile(mut v: Vec<f64>, p: usize) -> f64 {
    v.sort_by(f64::total_cmp);
    v[(v.len() * p / 100).min(v.len() - 1)]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median per-op time over `samples` batches of `batch` calls; `between` runs untimed
/// after each batch (lets the drain catch up).
fn batched(batch: u64, samples: usize, mut op: impl FnMut(u64), mut between: impl FnMut()) -> Cost {
    for i in 0..batch {
        op(i); // warm up
    }
    between();
    let mut times = Vec::with_capacity(samples);
    let mut allocs = 0;
    for s in 0..samples {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        COUNTING.with(|c| c.set(true));
        let start = Instant::now();
        for i in 0..batch {
            op(s as u64 * batch + i);
        }
        let elapsed = start.elapsed();
        COUNTING.with(|c| c.set(false));
        allocs += ALLOCATIONS.load(Ordering::Relaxed) - before;
        times.push(elapsed.as_nanos() as f64 / batch as f64);
        between();
    }
    let ns = median(times);
    Cost {
        ns,
        allocs: allocs as f64 / (samples as u64 * batch) as f64,
        p90: ns,
    }
}

/// The cost of reading the clock twice, subtracted from single-call timings.
fn timer_overhead() -> f64 {
    let mut times = Vec::new();
    for _ in 0..10_000 {
        let start = Instant::now();
        let e = start.elapsed();
        times.push(e.as_nanos() as f64);
    }
    median(times)
}

/// Whether idle pauses sleep (the calling thread is descheduled too, its caches go
/// cold) or spin (only the drain is idle, as for a busy request handler).
static PAUSE_SLEEPS: AtomicBool = AtomicBool::new(true);

fn pause(d: Duration) {
    if PAUSE_SLEEPS.load(Ordering::Relaxed) {
        std::thread::sleep(d);
    } else {
        let start = Instant::now();
        while start.elapsed() < d {
            std::hint::spin_loop();
        }
    }
}

/// One call after `pause` of quiet, timed alone, `samples` times.
fn idle(samples: usize, pause_for: Duration, overhead: f64, mut op: impl FnMut(u64)) -> Cost {
    op(0);
    let mut times = Vec::with_capacity(samples);
    let mut allocs = 0;
    for s in 0..samples {
        pause(pause_for);
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        COUNTING.with(|c| c.set(true));
        let start = Instant::now();
        op(s as u64);
        let elapsed = start.elapsed();
        COUNTING.with(|c| c.set(false));
        allocs += ALLOCATIONS.load(Ordering::Relaxed) - before;
        times.push((elapsed.as_nanos() as f64 - overhead).max(0.0));
    }
    Cost {
        p90: percentile(times.clone(), 90),
        ns: median(times),
        allocs: allocs as f64 / samples as f64,
    }
}

struct Row {
    stack: &'static str,
    disabled: Option<Cost>,
    burst: Cost,
    idle: Cost,
    idle_busy: Cost,
    saturated: Cost,
}

/// Idle cost twice: caller sleeping between events, then caller spinning.
fn idle_both(overhead: f64, mut op: impl FnMut(u64)) -> (Cost, Cost) {
    PAUSE_SLEEPS.store(true, Ordering::Relaxed);
    let slept = idle(IDLE_SAMPLES, PAUSE, overhead, &mut op);
    PAUSE_SLEEPS.store(false, Ordering::Relaxed);
    let busy = idle(IDLE_SAMPLES, PAUSE, overhead, &mut op);
    PAUSE_SLEEPS.store(true, Ordering::Relaxed);
    (slept, busy)
}

const BATCH: u64 = 1000;
const SAMPLES: usize = 200;
const IDLE_SAMPLES: usize = 300;
const PAUSE: Duration = Duration::from_millis(3);

fn bench_ours(overhead: f64) -> Row {
    let disabled = batched(BATCH, SAMPLES, emit_ours, || {});
    let dir = tempfile::tempdir().unwrap();
    let stall = Arc::new(AtomicBool::new(false));
    let sink = StallableJsonl(
        telemetry_core::JsonlSink::create(dir.path().join("events.jsonl")).unwrap(),
        Arc::clone(&stall),
    );
    let guard = telemetry_core::init(Config::new("bench", "1").sink(sink));
    let flush = || assert!(telemetry_core::flush(Duration::from_secs(30)));
    let burst = batched(BATCH, SAMPLES, emit_ours, flush);
    flush();
    let (idle, idle_busy) = idle_both(overhead, emit_ours);
    flush();
    stall.store(true, Ordering::Relaxed);
    for i in 0..20_000 {
        emit_ours(i); // fill the queue
    }
    let saturated = batched(BATCH, SAMPLES, emit_ours, || {});
    stall.store(false, Ordering::Relaxed);
    drop(guard);
    let s = telemetry_core::stats();
    assert_eq!(s.lost(), 0, "{s:?}");
    Row {
        stack: "telemetry-core `emit!`",
        disabled: Some(disabled),
        burst,
        idle,
        idle_busy,
        saturated,
    }
}

fn bench_tracing_json(overhead: f64) -> Row {
    let stall = Arc::new(AtomicBool::new(false));
    let file = StallableFile(tempfile::tempfile().unwrap(), Arc::clone(&stall));
    let (writer, guard) = tracing_appender::non_blocking(file);
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(writer)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    // tracing-appender has no flush: let its worker drain between batches.
    let pause = || std::thread::sleep(Duration::from_millis(5));
    let burst = batched(BATCH, SAMPLES / 4, emit_tracing, pause);
    let (idle, idle_busy) = idle_both(overhead, emit_tracing);
    stall.store(true, Ordering::Relaxed);
    for i in 0..200_000 {
        emit_tracing(i); // fill its 128,000-line channel
    }
    let saturated = batched(BATCH, SAMPLES / 4, emit_tracing, || {});
    stall.store(false, Ordering::Relaxed);
    drop(guard);
    Row {
        stack: "tracing + JSON + tracing-appender non_blocking",
        disabled: None,
        burst,
        idle,
        idle_busy,
        saturated,
    }
}

fn bench_untyped(overhead: f64) -> Row {
    let stall = Arc::new(AtomicBool::new(false));
    let (mut sdk, handle) = Untyped::start(Arc::clone(&stall));
    let written = Arc::clone(&sdk.written);
    let sent = std::cell::Cell::new(0u64);
    let drain = |target: u64| {
        while written.load(Ordering::Relaxed) < target {
            std::thread::yield_now();
        }
    };
    let burst = {
        let mut total = 0;
        let c = batched(
            BATCH,
            SAMPLES,
            |i| {
                total += 1;
                sdk.capture(i)
            },
            || {},
        );
        sent.set(total);
        c
    };
    drain(sent.get() - sdk.dropped);
    let (idle, idle_busy) = idle_both(overhead, |i| sdk.capture(i));
    stall.store(true, Ordering::Relaxed);
    for i in 0..20_000 {
        sdk.capture(i);
    }
    let saturated = batched(BATCH, SAMPLES, |i| sdk.capture(i), || {});
    stall.store(false, Ordering::Relaxed);
    drop(sdk);
    handle.join().unwrap();
    Row {
        stack: "untyped HashMap -> bounded channel",
        disabled: None,
        burst,
        idle,
        idle_busy,
        saturated,
    }
}

fn bench_otel(overhead: f64) -> Row {
    let stall = Arc::new(AtomicBool::new(false));
    let exporter = ReadingExporter {
        seen: Arc::new(AtomicU64::new(0)),
        stall: Arc::clone(&stall),
    };
    let provider = SdkLoggerProvider::builder()
        .with_log_processor(BatchLogProcessor::builder(exporter).build())
        .build();
    let subscriber =
        tracing_subscriber::registry().with(OpenTelemetryTracingBridge::new(&provider));
    let _default = tracing::subscriber::set_default(subscriber);
    let flush = || {
        let _ = provider.force_flush();
    };
    let burst = batched(BATCH, SAMPLES, emit_tracing, flush);
    let (idle, idle_busy) = idle_both(overhead, emit_tracing);
    stall.store(true, Ordering::Relaxed);
    for i in 0..20_000 {
        emit_tracing(i);
    }
    let saturated = batched(BATCH, SAMPLES, emit_tracing, || {});
    stall.store(false, Ordering::Relaxed);
    let _ = provider.shutdown();
    Row {
        stack: "OpenTelemetry logs (tracing bridge + BatchLogProcessor)",
        disabled: None,
        burst,
        idle,
        idle_busy,
        saturated,
    }
}

/// Events written per second to the JSONL file, end to end: each producer emits
/// chunks that fit the queue and waits for them to be written (`flush`), so nothing is
/// dropped and the time is the whole pipeline's (encode, queue, decode, format, write).
fn throughput(producers: u64, per_producer: u64) -> (f64, telemetry_core::Stats) {
    let dir = tempfile::tempdir().unwrap();
    let guard = telemetry_core::init(
        Config::new("bench", "1")
            .jsonl(dir.path().join("events.jsonl"))
            .stats_interval(None),
    );
    let start = Instant::now();
    let handles: Vec<_> = (0..producers)
        .map(|_| {
            std::thread::spawn(move || {
                let chunk = 8192 / producers / 2;
                let mut i = 0;
                while i < per_producer {
                    for _ in 0..chunk.min(per_producer - i) {
                        emit_ours(i);
                        i += 1;
                    }
                    assert!(telemetry_core::flush(Duration::from_secs(30)));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(guard.shutdown(Duration::from_secs(120)));
    let elapsed = start.elapsed();
    let s = telemetry_core::stats();
    (s.exported as f64 / elapsed.as_secs_f64(), s)
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

const BURST_ENV: &str = "TELEMETRY_BENCH_BURST";
/// Set to run only 10,000 emits (flushed every 1,000) for instruction counting:
/// `TELEMETRY_BENCH_CALLGRIND=1 valgrind --tool=callgrind target/release/deps/emit-*`,
/// then `callgrind_annotate --inclusive=yes` and divide `emit_ours` by 10,000.
const CALLGRIND_ENV: &str = "TELEMETRY_BENCH_CALLGRIND";

/// Set to run only the pipeline throughput runs (1 and 2 producers), `n` times each:
/// `TELEMETRY_BENCH_THROUGHPUT=5 target/release/deps/emit-*`.
const THROUGHPUT_ENV: &str = "TELEMETRY_BENCH_THROUGHPUT";

fn throughput_only(runs: usize) {
    throughput(1, 200_000); // warm-up, as in the full run
    for producers in [1, 2] {
        let rates: Vec<f64> = (0..runs)
            .map(|_| throughput(producers, 2_000_000 / producers).0 / 1e6)
            .collect();
        let text: Vec<String> = rates.iter().map(|r| format!("{r:.2}")).collect();
        println!(
            "{producers} producer(s): median {:.2} M events/s (runs: {})",
            median(rates.clone()),
            text.join(", ")
        );
    }
}

/// Set to run only the idle measurements of `emit!` (and their floors), `n` times:
/// `TELEMETRY_BENCH_IDLE=5 target/release/deps/emit-*`.
const IDLE_ENV: &str = "TELEMETRY_BENCH_IDLE";

/// Cache lines for the probe of `idle_only`: what touching memory costs after a pause.
#[repr(align(128))]
struct ProbeLine(AtomicU64);
static PROBE: [ProbeLine; 64] = [const { ProbeLine(AtomicU64::new(0)) }; 64];

/// Loads 16 lines of `PROBE`, each address depending on the previous load.
fn probe_dependent_lines() {
    // Through `black_box`: the array is never written, so the loads would fold away.
    let lines = black_box(&PROBE);
    let mut at = 0usize;
    for _ in 0..16 {
        at = (lines[at].0.load(Ordering::Relaxed) as usize + at * 5 + 1) % lines.len();
    }
    black_box(at);
}

fn idle_only(runs: usize) {
    let overhead = timer_overhead();
    let dir = tempfile::tempdir().unwrap();
    let stall = Arc::new(AtomicBool::new(false));
    let sink = StallableJsonl(
        telemetry_core::JsonlSink::create(dir.path().join("events.jsonl")).unwrap(),
        Arc::clone(&stall),
    );
    let capacity = std::env::var("TELEMETRY_BENCH_IDLE_QUEUE")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(8192);
    let guard = telemetry_core::init(
        Config::new("bench", "1")
            .sink(sink)
            .queue_capacity(capacity)
            .stats_interval(None),
    );
    for _ in 0..runs {
        let (floor, floor_busy) = idle_both(overhead, emit_flag);
        let (clock, clock_busy) = idle_both(overhead, |_| {
            black_box(std::time::SystemTime::now());
        });
        let (probe, probe_busy) = idle_both(overhead, |_| probe_dependent_lines());
        let (slept, busy) = idle_both(overhead, emit_ours);
        // Two emits after the pause: the second one runs warm.
        let (twice, twice_busy) = idle_both(overhead, |i| {
            emit_ours(i);
            emit_ours(i + 1);
        });
        // The event switched off: everything before the clock, encoding and queue.
        assert_eq!(
            telemetry_core::set_event_enabled("cart.item_added", false),
            1
        );
        let (off, off_busy) = idle_both(overhead, emit_ours);
        assert_eq!(
            telemetry_core::set_event_enabled("cart.item_added", true),
            1
        );
        // The writer blocked in its sink: it touches neither the queue nor the slots,
        // so what is left is the emitting thread's own cache misses.
        stall.store(true, Ordering::Relaxed);
        emit_ours(0);
        assert!(!telemetry_core::flush(Duration::from_millis(20)));
        let (stalled, stalled_busy) = idle_both(overhead, emit_ours);
        stall.store(false, Ordering::Relaxed);
        assert!(telemetry_core::flush(Duration::from_secs(30)));
        println!(
            "idle emit, caller slept / busy: {:.0} / {:.0} ns (a second emit right after: \
             {:.0} / {:.0} ns; event switched off: {:.0} / {:.0} ns); writer stalled: {:.0} / {:.0} ns \
             (floors: empty call {:.0} / {:.0} ns, SystemTime::now() {:.0} / {:.0} ns, \
             16 dependent loads {:.0} / {:.0} ns); 90th percentile of the emit: {:.0} / {:.0} ns",
            slept.ns,
            busy.ns,
            twice.ns - slept.ns,
            twice_busy.ns - busy.ns,
            off.ns,
            off_busy.ns,
            stalled.ns,
            stalled_busy.ns,
            floor.ns,
            floor_busy.ns,
            clock.ns,
            clock_busy.ns,
            probe.ns,
            probe_busy.ns,
            slept.p90,
            busy.p90
        );
    }
    drop(guard);
}

fn callgrind_child() {
    let dir = tempfile::tempdir().unwrap();
    let guard = telemetry_core::init(
        Config::new("bench", "1")
            .jsonl(dir.path().join("events.jsonl"))
            .stats_interval(None),
    );
    for chunk in 0..10 {
        for i in 0..1000 {
            emit_ours(chunk * 1000 + i);
        }
        assert!(telemetry_core::flush(Duration::from_secs(60)));
    }
    for chunk in 0..10 {
        for i in 0..1000 {
            emit_tracing(chunk * 1000 + i); // no subscriber: the disabled path
        }
    }
    drop(guard);
}

/// In a child process: peak RSS before and after a 10-million-event burst.
fn burst_child() {
    let dir = tempfile::tempdir().unwrap();
    let guard = telemetry_core::init(
        Config::new("bench", "1")
            .jsonl(dir.path().join("events.jsonl"))
            .stats_interval(None),
    );
    emit_ours(0);
    let before = peak_rss_kib();
    for i in 0..10_000_000 {
        emit_ours(i);
    }
    let after_emit = peak_rss_kib();
    assert!(guard.shutdown(Duration::from_secs(120)));
    let s = telemetry_core::stats();
    println!(
        "{before} {after_emit} {} {} {} {}",
        peak_rss_kib(),
        s.emitted,
        s.exported,
        s.dropped_queue_full
    );
}

fn fmt_cost(c: Cost) -> String {
    format!("{:.0} ns, {:.1} alloc", c.ns, c.allocs)
}

fn main() {
    if std::env::var_os(BURST_ENV).is_some() {
        burst_child();
        return;
    }
    if std::env::var_os(CALLGRIND_ENV).is_some() {
        callgrind_child();
        return;
    }
    if let Some(runs) = std::env::var_os(IDLE_ENV) {
        idle_only(runs.to_str().and_then(|r| r.parse().ok()).unwrap_or(3));
        return;
    }
    if let Some(runs) = std::env::var_os(THROUGHPUT_ENV) {
        throughput_only(runs.to_str().and_then(|r| r.parse().ok()).unwrap_or(3));
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing else.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let overhead = timer_overhead();
    // Disabled paths first, before any subscriber exists.
    let flag = batched(BATCH, SAMPLES, emit_flag, || {});
    // The floor of an idle measurement: a call that does nothing, after the pause.
    let (floor, floor_busy) = idle_both(overhead, emit_flag);
    // And of reading the wall clock (the vDSO data page is rewritten every tick).
    let (clock, clock_busy) = idle_both(overhead, |_| {
        black_box(std::time::SystemTime::now());
    });
    let tracing_off = batched(BATCH, SAMPLES, emit_tracing, || {});
    let rows = [
        bench_ours(overhead),
        bench_tracing_json(overhead),
        bench_untyped(overhead),
        bench_otel(overhead),
    ];
    // Warm-up, not reported: the first run also pays for the file system's and the
    // allocator's first touches (pages of the file, the writer's batch buffer).
    throughput(1, 200_000);
    let (t1, s1) = throughput(1, 2_000_000);
    let (t2, s2) = throughput(2, 1_000_000);
    let burst = std::process::Command::new(std::env::current_exe().unwrap())
        .env(BURST_ENV, "1")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();

    println!("timer overhead subtracted from idle timings: {overhead:.0} ns\n");
    println!("| disabled path | per call |\n|---|---|");
    println!("| relaxed `AtomicBool` load | {:.2} ns |", flag.ns);
    println!(
        "| `tracing::info!`, no subscriber | {:.2} ns |",
        tracing_off.ns
    );
    if let Some(d) = rows[0].disabled {
        println!(
            "| `emit!` before `init` | {:.2} ns ({:.2}x tracing) |",
            d.ns,
            d.ns / tracing_off.ns
        );
    }
    println!(
        "\n| stack (caller thread, 6 properties) | burst | idle, caller slept | idle, caller busy | saturated (drop) | burst ratio | idle ratios |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| (floor: an empty call) | | {} | {} | | | |",
        fmt_cost(floor),
        fmt_cost(floor_busy)
    );
    println!(
        "| (floor: `SystemTime::now()`) | | {} | {} | | | |",
        fmt_cost(clock),
        fmt_cost(clock_busy)
    );
    let ours = &rows[0];
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {:.1}x | {:.1}x / {:.1}x |",
            r.stack,
            fmt_cost(r.burst),
            fmt_cost(r.idle),
            fmt_cost(r.idle_busy),
            fmt_cost(r.saturated),
            r.burst.ns / ours.burst.ns,
            r.idle.ns / ours.idle.ns.max(1.0),
            r.idle_busy.ns / ours.idle_busy.ns.max(1.0),
        );
    }
    println!(
        "\n| pipeline to JSONL | events/s written | emitted | exported | dropped (queue full) |"
    );
    println!("|---|---|---|---|---|");
    for (name, t, s) in [("1 producer", t1, s1), ("2 producers", t2, s2)] {
        println!(
            "| {name} | {:.2} M | {} | {} | {} |",
            t / 1e6,
            s.emitted,
            s.exported,
            s.dropped_queue_full
        );
    }
    let f: Vec<&str> = burst.split_whitespace().collect();
    if let [before, after, end, emitted, exported, dropped] = f[..] {
        println!(
            "\n10M-event burst (1 producer, default queue): peak RSS {before} KiB before, {after} KiB after emitting, {end} KiB after shutdown; emitted {emitted}, exported {exported}, dropped {dropped}"
        );
    } else {
        println!("\n10M-event burst: child failed: {burst}");
    }
}

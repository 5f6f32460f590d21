//! `emit!` of an event with scalar, enum and short string properties allocates nothing
//! on the emitting thread: neither when the event is queued nor when the queue is full.
//! Nor does a call of an `#[instrument_event]` function with such arguments, whether it
//! returns `Ok`, an `Err` (kind from an `ErrorKind` impl or from the error type's
//! name) or a typed event.
//! A test binary of its own, because it installs a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use std::borrow::Cow;

use telemetry_core::instrument::ErrorKind;
use telemetry_core::{
    Config, Record, Sink, TelemetryEvent, TelemetryProperty, emit, instrument_event,
};

/// Counts the allocations of threads that switched counting on.
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
// an atomic and a const-initialized thread-local `Cell` (neither allocates).
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

/// Allocations made by this thread while running `f`.
fn allocations_in(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// A dish was added to a cart: the benchmark's six properties.
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
#[derive(TelemetryProperty)]
enum AddSource {
    Menu,
    Search,
}

fn emit_one(i: u64) {
    emit!(CartItemAdded {
        restaurant_id: 42,
        dish_id: i,
        price_cents: 1250,
        quantity: 2,
        source: if i.is_multiple_of(2) {
            AddSource::Menu
        } else {
            AddSource::Search
        },
        coupon: if i.is_multiple_of(3) {
            Some("WELCOME10")
        } else {
            None
        },
    });
}

/// A sink that never returns, to fill the queue.
struct Stuck;
impl Sink for Stuck {
    fn name(&self) -> String {
        "stuck".into()
    }
    fn write(&mut self, _: &[Record]) -> io::Result<()> {
        loop {
            std::thread::park();
        }
    }
}

/// One pipeline per process: the tests take turns.
static PIPELINE: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn emit_allocates_nothing_on_the_calling_thread() {
    let _l = PIPELINE.lock().unwrap_or_else(|e| e.into_inner());
    // The counter sees this thread's allocations.
    assert_eq!(
        allocations_in(|| drop(std::hint::black_box(Box::new(7u64)))),
        1
    );
    // Queued: a sink that keeps up.
    let guard = telemetry_core::init(
        Config::new("zero-alloc", "1").sink(telemetry_core::MemorySink::new()),
    );
    emit_one(0); // the first emit on a thread caches the pipeline handle
    let n = allocations_in(|| {
        for i in 0..10_000 {
            emit_one(i);
        }
    });
    assert!(telemetry_core::flush(Duration::from_secs(10)));
    assert_eq!(n, 0, "allocations while queueing 10,000 events");
    drop(guard);
    let s = telemetry_core::stats();
    assert_eq!(s.emitted, 10_001, "{s:?}");
    assert_eq!(s.exported + s.dropped_queue_full, 10_001, "{s:?}");

    // Inside a context scope (opening it allocates; emitting in it does not), on a
    // thread and in a future wrapped with `with_context`.
    let memory = telemetry_core::MemorySink::new();
    let guard = telemetry_core::init(Config::new("zero-alloc", "1").sink(memory.clone()));
    {
        let _scope = telemetry_core::context::scope(
            telemetry_core::context::ContextOverride::user("user-1"),
        );
        emit_one(0);
        let n = allocations_in(|| {
            for i in 0..10_000 {
                emit_one(i);
            }
        });
        assert_eq!(n, 0, "allocations while emitting inside a scope");
    }
    assert!(telemetry_core::flush(Duration::from_secs(10)));
    {
        use telemetry_core::context::WithContextExt;
        let task = async {
            emit_one(0);
            allocations_in(|| {
                for i in 0..10_000 {
                    emit_one(i);
                }
            })
        }
        .with_context(telemetry_core::context::ContextOverride::user("user-2"));
        let n = futures::executor::block_on(task);
        assert_eq!(n, 0, "allocations while emitting in a with_context future");
    }
    assert!(telemetry_core::flush(Duration::from_secs(10)));
    drop(guard);
    let users: std::collections::HashSet<_> = memory
        .records()
        .iter()
        .filter(|r| r.kind == telemetry_core::record::RecordKind::Event)
        .map(|r| r.context.user_id.clone())
        .collect();
    assert_eq!(users.len(), 2, "{users:?}");

    // Consent unknown (buffered on the writer) and denied (dropped on this thread):
    // the emitting thread still allocates nothing.
    for consent in [
        telemetry_core::Consent::Unknown,
        telemetry_core::Consent::Denied,
    ] {
        let guard = telemetry_core::init(
            Config::new("zero-alloc", "1")
                .sink(telemetry_core::MemorySink::new())
                .consent(consent),
        );
        emit_one(0);
        let n = allocations_in(|| {
            for i in 0..10_000 {
                emit_one(i);
            }
        });
        assert_eq!(n, 0, "allocations while emitting with consent {consent:?}");
        drop(guard);
        let s = telemetry_core::stats();
        assert_eq!(s.exported, 0, "{s:?}");
        assert_eq!(s.dropped_no_consent + s.dropped_queue_full, 10_001, "{s:?}");
    }

    // Saturated: the sink hangs, the queue is full, every emit is the drop path.
    let guard = telemetry_core::init(
        Config::new("zero-alloc", "1")
            .sink(Stuck)
            .queue_capacity(16),
    );
    emit_one(0);
    let n = allocations_in(|| {
        for i in 0..10_000 {
            emit_one(i);
        }
    });
    assert_eq!(n, 0, "allocations while dropping on a full queue");
    assert!(telemetry_core::stats().dropped_queue_full > 9_000);
    assert!(!guard.shutdown(Duration::from_millis(50)));
}

/// Why a payment failed.
#[derive(Debug)]
enum PaymentError {
    Declined,
}

impl ErrorKind for PaymentError {
    fn error_kind(&self) -> Cow<'static, str> {
        match self {
            PaymentError::Declined => "declined".into(),
        }
    }
}

/// An error without an `ErrorKind` impl: its kind is its type's name.
#[derive(Debug)]
struct GatewayDown;

/// A payment attempt.
#[instrument_event(
    name = "payment.attempted",
    owner = "payments",
    fields(cents, method, code)
)]
fn pay(cents: u64, method: AddSource, code: &str) -> Result<u64, PaymentError> {
    if cents == 0 {
        return Err(PaymentError::Declined);
    }
    Ok(cents + code.len() as u64 + matches!(method, AddSource::Menu) as u64)
}

/// A gateway call.
#[instrument_event(name = "gateway.called", owner = "payments", fields(attempt))]
fn call_gateway(attempt: u8) -> Result<(), GatewayDown> {
    if attempt > 1 {
        Err(GatewayDown)?;
    }
    Ok(())
}

/// A dish was added to a cart from a recommendation (a typed event).
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.recommended_dish_added", owner = "growth")]
struct RecommendedDishAdded {
    /// Dish.
    dish_id: u64,
    /// Portions.
    quantity: u8,
    /// Where the dish was found.
    source: AddSource,
}

/// Adds a recommended dish.
#[instrument_event(event = RecommendedDishAdded, fields(dish_id, quantity = 1, source = AddSource::Search))]
fn add_dish(dish_id: u64) -> u64 {
    dish_id * 2
}

fn instrumented_calls(i: u64) {
    let _ = std::hint::black_box(pay(i % 3, AddSource::Menu, "WELCOME10"));
    let _ = std::hint::black_box(call_gateway((i % 3) as u8));
    std::hint::black_box(add_dish(i));
}

#[test]
fn instrumented_calls_allocate_nothing_on_the_calling_thread() {
    let _l = PIPELINE.lock().unwrap_or_else(|e| e.into_inner());
    let memory = telemetry_core::MemorySink::new();
    let guard = telemetry_core::init(
        Config::new("zero-alloc", "1")
            .sink(memory.clone())
            .queue_capacity(1 << 14) // room for every call: none dropped
            .stats_interval(None),
    );
    instrumented_calls(1);
    let n = allocations_in(|| {
        for i in 0..3_000 {
            instrumented_calls(i);
        }
    });
    assert_eq!(n, 0, "allocations while recording 9,000 calls");
    assert!(guard.shutdown(Duration::from_secs(10)));
    let s = telemetry_core::stats();
    assert_eq!((s.emitted, s.dropped_queue_full), (9_003, 0), "{s:?}");

    // What the calls recorded reached the sink intact.
    let records = memory.records();
    let kind_of = |name: &str, i: usize| {
        let call = records
            .iter()
            .filter(|r| r.name == name)
            .nth(i)
            .and_then(|r| r.call.clone())
            .unwrap();
        (call.outcome.as_str(), call.error_kind)
    };
    // Calls 0, 1, 2 of the timed loop are records 1, 2, 3.
    assert_eq!(
        kind_of("payment.attempted", 1),
        ("error", Some("declined".into()))
    );
    assert_eq!(kind_of("payment.attempted", 2), ("ok", None));
    assert_eq!(
        kind_of("gateway.called", 3),
        ("error", Some("GatewayDown".into()))
    );
    let pay = records
        .iter()
        .find(|r| r.name == "payment.attempted")
        .unwrap();
    assert_eq!(
        pay.properties.get("code"),
        Some(&telemetry_core::Value::from("WELCOME10"))
    );
    assert_eq!(
        pay.properties.get("method"),
        Some(&telemetry_core::Value::from("menu"))
    );
    assert!(
        pay.call
            .as_ref()
            .unwrap()
            .function
            .ends_with("zero_alloc::pay")
    );
    let dish = records
        .iter()
        .find(|r| r.name == "cart.recommended_dish_added")
        .unwrap();
    assert_eq!(
        dish.properties.get("dish_id"),
        Some(&telemetry_core::Value::UInt(1))
    );
}

//! `#[instrument_event]` on every function shape, checked through `testing::capture`:
//! event name, captured fields, outcome (ok, error, panicked, cancelled), error kind,
//! duration, catalog registration; and through a running pipeline, calls that fit a
//! queue slot and calls that do not.

use std::borrow::Cow;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::time::Duration;

use telemetry_core::instrument::ErrorKind;
use telemetry_core::{Outcome, TelemetryEvent, TelemetryProperty, emit, instrument_event, testing};

/// How a payment is made.
#[derive(Debug, Clone, Copy, TelemetryProperty)]
enum Method {
    Card,
    Upi,
}

/// Why a payment failed.
#[derive(Debug)]
enum PaymentError {
    CardDeclined,
    GatewayTimeout,
}

impl ErrorKind for PaymentError {
    fn error_kind(&self) -> Cow<'static, str> {
        match self {
            PaymentError::CardDeclined => "card_declined".into(),
            PaymentError::GatewayTimeout => "gateway_timeout".into(),
        }
    }
}

struct Order {
    total_cents: u64,
}

/// A customer paid.
#[instrument_event(
    name = "checkout.payment",
    category = "payment",
    owner = "payments",
    fields(amount_cents, method, total: u64 = order.total_cents, note)
)]
fn pay(
    amount_cents: u64,
    method: &Method,
    order: &Order,
    note: Option<&str>,
    card_number: &str,
) -> Result<u64, PaymentError> {
    if card_number.starts_with('0') {
        return Err(PaymentError::CardDeclined);
    }
    if amount_cents > 10_000 {
        Err(PaymentError::GatewayTimeout)?;
    }
    Ok(amount_cents + 1)
}

#[test]
fn implicit_mode_captures_only_listed_fields() {
    let order = Order { total_cents: 900 };
    let events = testing::capture(|| {
        assert_eq!(
            pay(500, &Method::Upi, &order, Some("gift"), "4111").unwrap(),
            501
        );
    });
    assert_eq!(events.names(), ["checkout.payment"]);
    let e = &events[0];
    assert_eq!(e["amount_cents"], 500);
    assert_eq!(e["method"], "upi");
    assert_eq!(e["total"], 900);
    assert_eq!(e["note"], "gift");
    assert!(e.property("card_number").is_none());
    assert_eq!(e.outcome(), Some(Outcome::Ok));
    assert_eq!(e.error_kind(), None);
    assert_eq!(
        e.call().unwrap().function,
        "instrument::pay",
        "function path"
    );
    let schema = e.schema();
    assert_eq!(schema.description, "A customer paid.");
    assert_eq!(schema.owner, "payments");
    let names: Vec<&str> = schema.properties.iter().map(|p| &*p.name).collect();
    assert_eq!(names, ["amount_cents", "method", "total", "note"]);
    assert!(schema.property("note").unwrap().optional);
    assert_eq!(&*schema.property("method").unwrap().values, ["card", "upi"]);
}

#[test]
fn errors_by_return_and_by_question_mark() {
    let order = Order { total_cents: 1 };
    let events = testing::capture(|| {
        let _ = pay(1, &Method::Card, &order, None, "0000");
        let _ = pay(20_000, &Method::Card, &order, None, "4111");
    });
    assert_eq!(events[0].outcome(), Some(Outcome::Error));
    assert_eq!(events[0].error_kind(), Some("card_declined"));
    // `?` is observed like `return`, after `From` conversion.
    assert_eq!(events[1].outcome(), Some(Outcome::Error));
    assert_eq!(events[1].error_kind(), Some("gateway_timeout"));
    assert!(events[1].property("note").is_none());
}

/// An application error that other errors convert into.
#[derive(Debug)]
enum AppError {
    BadInput,
}

impl From<std::num::ParseIntError> for AppError {
    fn from(_: std::num::ParseIntError) -> Self {
        AppError::BadInput
    }
}

impl ErrorKind for AppError {
    fn error_kind(&self) -> Cow<'static, str> {
        match self {
            AppError::BadInput => "bad_input".into(),
        }
    }
}

macro_rules! bail {
    ($e:expr) => {
        return Err($e)
    };
}

/// Converts with `?`, and bails from inside a macro.
#[instrument_event(name = "test.converted")]
fn converted(input: &str) -> Result<u8, AppError> {
    if input.is_empty() {
        bail!(AppError::BadInput);
    }
    let n: u8 = input.parse()?;
    let doubled = n.checked_mul(2).ok_or(AppError::BadInput)?;
    Ok(doubled)
}

#[test]
fn question_mark_converts_and_macro_returns_use_the_declared_type() {
    let events = testing::capture(|| {
        assert_eq!(converted("4").unwrap(), 8);
        assert!(converted("x").is_err());
        assert!(converted("200").is_err());
        assert!(converted("").is_err());
    });
    let kinds: Vec<_> = events
        .iter()
        .map(|e| (e.outcome(), e.error_kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            (Some(Outcome::Ok), None),
            (Some(Outcome::Error), Some("bad_input")),
            (Some(Outcome::Error), Some("bad_input")),
            // A `return` written inside a macro is not visible to the attribute: the
            // outcome comes from the declared return type, the kind from its error type.
            (Some(Outcome::Error), Some("AppError")),
        ]
    );
}

type Fallible<T> = Result<T, std::num::ParseIntError>;

/// Parses a quantity.
#[instrument_event(name = "cart.quantity_parsed", fields(input))]
fn parse_quantity(input: &str) -> Fallible<u32> {
    let n: u32 = input.trim().parse()?;
    Ok(n)
}

/// Returns an optional coupon.
#[instrument_event(name = "coupon.looked_up")]
fn coupon(code: u8) -> Option<String> {
    if code == 0 {
        return None;
    }
    Some("SAVE".into())
}

#[test]
fn result_is_detected_by_type_not_spelling() {
    let events = testing::capture(|| {
        assert_eq!(parse_quantity(" 3 ").unwrap(), 3);
        assert!(parse_quantity("x").is_err());
        assert!(coupon(0).is_none());
    });
    assert_eq!(events[0].outcome(), Some(Outcome::Ok));
    assert_eq!(events[1].outcome(), Some(Outcome::Error));
    assert_eq!(events[1].error_kind(), Some("ParseIntError"));
    assert_eq!(events[1]["input"], "x");
    // `None` is not an error.
    assert_eq!(events[2].outcome(), Some(Outcome::Ok));
}

/// Sleeps.
#[instrument_event(name = "test.slept", fields(ms))]
fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

#[test]
fn duration_is_measured() {
    let events = testing::capture(|| sleep_ms(20));
    let d = events[0].duration().unwrap();
    assert!(d >= Duration::from_millis(20), "{d:?}");
    assert!(d < Duration::from_secs(5), "{d:?}");
}

/// Panics on request.
#[instrument_event(name = "test.panicky", fields(fail))]
fn panicky(fail: bool) -> u8 {
    assert!(!fail, "asked to fail");
    1
}

#[test]
fn panics_are_recorded_and_propagate() {
    let events = testing::capture(|| {
        let caught = catch_unwind(|| panicky(true));
        assert!(caught.is_err(), "the panic propagates");
        assert_eq!(panicky(false), 1);
    });
    assert_eq!(events.names(), ["test.panicky", "test.panicky"]);
    assert_eq!(events[0].outcome(), Some(Outcome::Panicked));
    assert_eq!(events[1].outcome(), Some(Outcome::Ok));
}

struct CallsDuringUnwind;
impl Drop for CallsDuringUnwind {
    fn drop(&mut self) {
        let _ = panicky(false);
    }
}

#[test]
fn a_call_that_completes_during_another_panic_is_ok() {
    let events = testing::capture(|| {
        let _ = catch_unwind(|| {
            let _d = CallsDuringUnwind;
            panic!("unrelated");
        });
    });
    assert_eq!(events.names(), ["test.panicky"]);
    assert_eq!(events[0].outcome(), Some(Outcome::Ok));
}

#[test]
fn disabled_telemetry_sends_nothing_and_keeps_behaviour() {
    // Outside `capture` (and without `init`) nothing listens.
    let order = Order { total_cents: 1 };
    assert!(matches!(
        pay(1, &Method::Card, &order, None, "0"),
        Err(PaymentError::CardDeclined)
    ));
    assert_eq!(parse_quantity("7").unwrap(), 7);
}

// ---- typed mode ----

/// A payment was attempted.
#[derive(TelemetryEvent)]
#[telemetry(name = "payment.attempted", owner = "payments")]
struct PaymentAttempted {
    /// Amount in cents.
    amount_cents: u64,
    /// Method.
    method: Method,
    /// Coupon, if any.
    coupon: Option<String>,
}

/// Pays with a typed event: every argument is a field.
#[instrument_event(event = PaymentAttempted)]
fn attempt(amount_cents: u64, method: Method, coupon: Option<String>) -> Result<(), PaymentError> {
    drop(coupon); // moved by the body: the event has its own copy
    if amount_cents == 0 {
        return Err(PaymentError::CardDeclined);
    }
    Ok(())
}

/// Typed, with fields given explicitly.
#[instrument_event(event = PaymentAttempted, fields(amount_cents = order.total_cents, method, coupon = None))]
fn attempt_order(order: &Order, method: Method) {
    let _ = order;
    let _ = method;
}

#[test]
fn typed_mode_fills_the_struct() {
    let events = testing::capture(|| {
        attempt(5, Method::Card, Some("SAVE".into())).unwrap();
        attempt(0, Method::Upi, None).unwrap_err();
        attempt_order(&Order { total_cents: 77 }, Method::Upi);
        emit!(PaymentAttempted {
            amount_cents: 1,
            method: Method::Card,
            coupon: None
        });
    });
    assert_eq!(events.of::<PaymentAttempted>().count(), 4);
    assert_eq!(events[0]["amount_cents"], 5);
    assert_eq!(events[0]["coupon"], "SAVE");
    assert_eq!(events[0].outcome(), Some(Outcome::Ok));
    assert_eq!(events[1].error_kind(), Some("card_declined"));
    assert_eq!(events[2]["amount_cents"], 77);
    assert!(events[2].property("coupon").is_none());
    // The hand-written `emit!` has no call object.
    assert_eq!(events[3].outcome(), None);
    assert_eq!(events[3].duration(), None);
}

// ---- async ----

/// Waits, async.
#[instrument_event(name = "test.async_waited", fields(ms))]
async fn wait_ms(ms: u64) -> Result<u64, PaymentError> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    if ms == 0 {
        Err(PaymentError::GatewayTimeout)?;
    }
    Ok(ms)
}

/// Panics, async.
#[instrument_event(name = "test.async_panicked")]
async fn async_panics() -> u8 {
    tokio::task::yield_now().await;
    panic!("async failure")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

#[test]
fn async_outcomes_and_duration() {
    let events = testing::capture(|| {
        rt().block_on(async {
            assert_eq!(wait_ms(20).await.unwrap(), 20);
            assert!(wait_ms(0).await.is_err());
            // Cancelled: dropped while pending.
            let timed_out = tokio::time::timeout(Duration::from_millis(5), wait_ms(5_000)).await;
            assert!(timed_out.is_err());
        });
    });
    assert_eq!(events.names(), ["test.async_waited"; 3]);
    assert_eq!(events[0].outcome(), Some(Outcome::Ok));
    assert!(events[0].duration().unwrap() >= Duration::from_millis(20));
    assert_eq!(events[1].outcome(), Some(Outcome::Error));
    assert_eq!(events[1].error_kind(), Some("gateway_timeout"));
    assert_eq!(events[2].outcome(), Some(Outcome::Cancelled));
    assert_eq!(events[2]["ms"], 5_000);
}

#[test]
fn async_cancel_with_select_and_never_polled() {
    let events = testing::capture(|| {
        futures::executor::block_on(async {
            let never = wait_ms(1);
            drop(never); // never polled: no event
            let slow = std::pin::pin!(wait_ms(10_000));
            let rt = rt();
            let _enter = rt.enter();
            let ready = std::pin::pin!(std::future::ready(()));
            futures::future::select(slow, ready).await;
        });
    });
    assert_eq!(events.names(), ["test.async_waited"]);
    assert_eq!(events[0].outcome(), Some(Outcome::Cancelled));
}

#[test]
fn async_panic_caught_by_the_runtime_is_panicked_not_cancelled() {
    let events = testing::capture(|| {
        let rt = rt();
        // `catch_unwind` around the poll: the future is dropped later, normally.
        let mut fut = Box::pin(async_panics());
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        let caught = catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx)));
        assert!(caught.is_err());
        drop(fut);
        drop(rt);
    });
    assert_eq!(events.names(), ["test.async_panicked"]);
    assert_eq!(events[0].outcome(), Some(Outcome::Panicked));
}

#[test]
fn instrumented_async_fns_stay_send() {
    fn assert_send<T: Send>(_: &T) {}
    let f = wait_ms(1);
    assert_send(&f);
    drop(f);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    // Events from other threads are not captured (capture is per thread); spawning
    // only has to compile and run.
    let events = testing::capture(|| {
        let handle = rt.spawn(wait_ms(1));
        assert_eq!(rt.block_on(handle).unwrap().unwrap(), 1);
    });
    assert!(events.is_empty());
}

#[test]
fn events_of_threads_spawned_inside_capture_are_not_captured() {
    let events = testing::capture(|| {
        std::thread::spawn(|| sleep_ms(0)).join().unwrap();
        sleep_ms(0);
    });
    assert_eq!(events.len(), 1);
}

// ---- methods, generics, impl Trait, futures ----

struct Cart {
    items: Vec<u64>,
}

trait Checkout {
    /// Checks out with the default method.
    #[instrument_event(name = "cart.checked_out_default")]
    fn checkout_default(&self) -> usize {
        self.count()
    }
    fn count(&self) -> usize;
}

impl Checkout for Cart {
    fn count(&self) -> usize {
        self.items.len()
    }
}

impl Cart {
    /// Counts.
    #[must_use]
    #[instrument_event(name = "cart.counted", fields(items: usize = self.items.len()))]
    fn count_items(&self) -> usize {
        self.items.len()
    }

    /// Adds.
    #[instrument_event(name = "cart.item_added", fields(dish))]
    fn add(&mut self, dish: u64) -> &mut Self {
        self.items.push(dish);
        self
    }

    /// Consumes.
    #[instrument_event(name = "cart.closed")]
    fn close(self) -> Vec<u64> {
        self.items
    }

    /// Boxed self.
    #[allow(clippy::boxed_local)] // the shape under test
    #[instrument_event(name = "cart.boxed_closed")]
    fn close_boxed(self: Box<Self>) -> usize {
        self.items.len()
    }

    /// Pinned self.
    #[instrument_event(name = "cart.pinned")]
    fn pinned(self: Pin<&mut Self>) -> usize {
        self.items.len()
    }

    /// Generic with a where clause and `impl Trait`.
    #[instrument_event(name = "cart.extended", fields(count: usize = extra.len()))]
    fn extend_from<I>(
        &mut self,
        extra: &[u64],
        more: impl IntoIterator<Item = u64>,
        also: I,
    ) -> impl Iterator<Item = &u64>
    where
        I: IntoIterator<Item = u64>,
    {
        self.items.extend(extra);
        self.items.extend(more);
        self.items.extend(also);
        self.items.iter()
    }
}

/// Destructured arguments and lifetimes.
#[instrument_event(name = "test.destructured", fields(label))]
fn destructured<'a>((a, b): (u8, u8), label: &'a str, Order { total_cents }: Order) -> &'a str {
    let _ = (a, b, total_cents);
    label
}

/// Returns a future without being `async fn`; statements before it run at the call.
#[instrument_event(name = "test.future_returned", fields(n))]
fn returns_future(n: u64) -> impl Future<Output = Result<u64, PaymentError>> + Send {
    let doubled = n * 2;
    async move {
        tokio::task::yield_now().await;
        if doubled == 0 {
            return Err(PaymentError::CardDeclined);
        }
        Ok(doubled)
    }
}

/// A boxed future, as `#[async_trait]` writes it.
#[instrument_event(name = "test.boxed_future")]
fn boxed_future<'a>(x: &'a u8) -> Pin<Box<dyn Future<Output = u8> + Send + 'a>> {
    Box::pin(async move { *x })
}

type BoxFut<'a> = Pin<Box<dyn Future<Output = u8> + Send + 'a>>;

/// A boxed future behind an alias, marked.
#[instrument_event(name = "test.aliased_future", future)]
fn aliased_future(x: u8) -> BoxFut<'static> {
    Box::pin(async move { x })
}

/// Recursion.
#[instrument_event(name = "test.recursed", fields(n))]
async fn recurse(n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    Box::pin(recurse(n - 1)).await + 1
}

#[async_trait::async_trait]
trait Gateway {
    async fn charge(&self, cents: u64) -> Result<u64, PaymentError>;
}

struct Bank {
    fee: u64,
}

#[async_trait::async_trait]
impl Gateway for Bank {
    /// Charges through async-trait.
    #[instrument_event(name = "gateway.charged", fields(cents, fee: u64 = self.fee))]
    async fn charge(&self, cents: u64) -> Result<u64, PaymentError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if cents == 0 {
            return Err(PaymentError::CardDeclined);
        }
        Ok(cents + self.fee)
    }
}

struct Wrapper<T>(T);

trait Describe {
    fn describe(&self) -> u8;
}

impl<T: Clone> Describe for Wrapper<T> {
    /// Generic impl.
    #[instrument_event(name = "wrapper.described")]
    #[inline]
    fn describe(&self) -> u8 {
        let _ = self.0.clone();
        1
    }
}

#[test]
fn methods_generics_and_lifetimes() {
    let events = testing::capture(|| {
        let mut cart = Cart { items: vec![1] };
        assert_eq!(cart.count_items(), 1);
        cart.add(2).add(3);
        assert_eq!(cart.extend_from(&[4], [5], vec![6]).count(), 6);
        assert_eq!(cart.checkout_default(), 6);
        assert_eq!(std::pin::pin!(Cart { items: vec![] }).as_mut().pinned(), 0);
        assert_eq!(Box::new(Cart { items: vec![1] }).close_boxed(), 1);
        assert_eq!(cart.close().len(), 6);
        assert_eq!(destructured((1, 2), "x", Order { total_cents: 3 }), "x");
        assert_eq!(Wrapper(String::new()).describe(), 1);
    });
    assert_eq!(
        events.names(),
        [
            "cart.counted",
            "cart.item_added",
            "cart.item_added",
            "cart.extended",
            "cart.checked_out_default",
            "cart.pinned",
            "cart.boxed_closed",
            "cart.closed",
            "test.destructured",
            "wrapper.described",
        ]
    );
    assert_eq!(events[0]["items"], 1);
    assert_eq!(events[2]["dish"], 3);
    assert_eq!(events[3]["count"], 1);
    assert_eq!(events[8]["label"], "x");
    assert!(events.iter().all(|e| e.outcome() == Some(Outcome::Ok)));
}

#[test]
fn future_shapes() {
    let events = testing::capture(|| {
        rt().block_on(async {
            assert_eq!(returns_future(2).await.unwrap(), 4);
            assert!(returns_future(0).await.is_err());
            assert_eq!(boxed_future(&7).await, 7);
            assert_eq!(aliased_future(8).await, 8);
            assert_eq!(recurse(2).await, 2);
            let bank = Bank { fee: 3 };
            assert_eq!(bank.charge(10).await.unwrap(), 13);
            assert!(bank.charge(0).await.is_err());
            let unpolled = returns_future(1);
            drop(unpolled);
        });
    });
    assert_eq!(
        events.names(),
        [
            "test.future_returned",
            "test.future_returned",
            "test.boxed_future",
            "test.aliased_future",
            "test.recursed",
            "test.recursed",
            "test.recursed",
            "gateway.charged",
            "gateway.charged",
        ]
    );
    assert_eq!(events[1].error_kind(), Some("card_declined"));
    // Innermost recursion finishes first.
    assert_eq!(events[4]["n"], 0);
    assert_eq!(events[6]["n"], 2);
    let charged = &events[7];
    assert_eq!(charged["cents"], 10);
    assert_eq!(charged["fee"], 3);
    // The inner future is measured, not just the boxing.
    assert!(charged.duration().unwrap() >= Duration::from_millis(20));
    assert_eq!(events[8].error_kind(), Some("card_declined"));
}

#[test]
fn async_trait_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let bank = Bank { fee: 0 };
    let f = bank.charge(1);
    assert_send(&f);
    let f2 = returns_future(1);
    assert_send(&f2);
}

#[test]
fn catalog_lists_instrumented_functions() {
    let catalog = telemetry_core::catalog();
    let payment = catalog.event("checkout.payment").expect("registered");
    assert_eq!(payment.schema.rust_type, "instrument::pay");
    assert_eq!(payment.call_sites.len(), 1);
    let site = &payment.call_sites[0];
    assert_eq!(site.function.as_deref(), Some("instrument::pay"));
    assert!(site.file.ends_with("instrument.rs"));
    // Typed: the struct's event lists the instrumented functions and the `emit!`.
    let attempted = catalog.event("payment.attempted").expect("registered");
    let functions: Vec<Option<&str>> = attempted
        .call_sites
        .iter()
        .map(|s| s.function.as_deref())
        .collect();
    assert_eq!(
        functions,
        [
            Some("instrument::attempt"),
            Some("instrument::attempt_order"),
            None
        ]
    );
    let json = catalog.to_json();
    assert!(json.contains(r#""function": "instrument::pay""#), "{json}");
    let back = telemetry_core::Catalog::from_json(&json).unwrap();
    assert_eq!(back, catalog);
}

// ---- decided behaviours ----

mod anyhow_like {
    /// Stands for `anyhow::Error`: a type named `Error` in another crate.
    #[derive(Debug)]
    pub(crate) struct Error;
}

/// Boxed errors.
#[instrument_event(name = "test.boxed_error")]
fn boxed_error(fail: bool) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if fail {
        let n: u8 = "x".parse()?;
        let _ = n;
    }
    Ok(())
}

/// An `anyhow`-style error.
#[instrument_event(name = "test.anyhow_error")]
fn anyhow_error() -> Result<(), anyhow_like::Error> {
    Err(anyhow_like::Error)
}

/// A ratio.
#[instrument_event(name = "test.ratio", fields(ratio))]
fn ratio(ratio: f64) -> f64 {
    ratio
}

#[test]
fn error_kinds_of_boxed_and_foreign_errors() {
    let events = testing::capture(|| {
        assert!(boxed_error(true).is_err());
        assert!(anyhow_error().is_err());
    });
    // The static type names the kind: a boxed error says it is boxed (the dynamic
    // type is not known), an `anyhow::Error` is `Error`. Wrap them in an error type
    // that implements `ErrorKind` to say more.
    assert_eq!(events[0].error_kind(), Some("Box<dyn Error + Send + Sync>"));
    assert_eq!(events[1].error_kind(), Some("Error"));
}

#[test]
fn non_finite_floats_are_kept_raw_and_written_as_null() {
    let events = testing::capture(|| {
        ratio(f64::NAN);
        ratio(f64::INFINITY);
    });
    assert!(events[0]["ratio"].as_f64().unwrap().is_nan());
    assert_eq!(events[1]["ratio"].as_f64(), Some(f64::INFINITY));
    // As for derived events, the record holds `null` (JSON has no NaN).
    let _l = PIPELINE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let guard = telemetry_core::init(telemetry_core::Config::new("t", "1").jsonl(&path));
    if guard.is_active() {
        ratio(f64::NAN);
        drop(guard);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#""ratio":null"#), "{text}");
        assert!(
            text.contains(r#""call":{"function":"instrument::ratio""#),
            "{text}"
        );
    }
}

/// One pipeline per process: the tests that start one take turns.
static PIPELINE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// An error whose type name is longer than what a queue slot holds.
#[derive(Debug)]
struct AnErrorTypeWithAVeryLongNameThatDoesNotFitInTheQueueSlotOfAnEventAtAllNotEvenCloseSoItSpills;

/// A lookup whose argument may be too long for a queue slot.
#[instrument_event(name = "test.looked_up", fields(key, attempt))]
fn look_up(
    key: &str,
    attempt: u8,
) -> Result<
    u8,
    AnErrorTypeWithAVeryLongNameThatDoesNotFitInTheQueueSlotOfAnEventAtAllNotEvenCloseSoItSpills,
> {
    if attempt > 0 {
        return Err(AnErrorTypeWithAVeryLongNameThatDoesNotFitInTheQueueSlotOfAnEventAtAllNotEvenCloseSoItSpills);
    }
    Ok(key.len() as u8)
}

#[test]
fn calls_too_big_for_a_queue_slot_are_written_whole() {
    let _l = PIPELINE.lock().unwrap_or_else(|e| e.into_inner());
    let memory = telemetry_core::MemorySink::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let long_key = "k".repeat(300);
    for to_memory in [true, false] {
        let config = telemetry_core::Config::new("t", "1").stats_interval(None);
        let config = if to_memory {
            config.sink(memory.clone())
        } else {
            config.jsonl(&path)
        };
        let guard = telemetry_core::init(config);
        assert!(look_up("short", 0).is_ok()); // fits: values and outcome in the slot
        assert!(look_up(&long_key, 0).is_ok()); // the value spills
        assert!(look_up("short", 1).is_err()); // the error kind spills
        assert!(guard.shutdown(Duration::from_secs(10)));
        // Other tests of this binary may emit meanwhile: look at this test's events.
        let s = telemetry_core::stats();
        assert_eq!(s.emitted, s.exported, "{s:?}");
        let records: Vec<telemetry_core::Record> = if to_memory {
            memory.take()
        } else {
            std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .map(|l| telemetry_core::Record::from_json(l).unwrap())
                .collect()
        };
        let records = records.into_iter().filter(|r| r.name == "test.looked_up");
        let seen: Vec<(String, u64, Outcome, Option<String>)> = records
            .map(|r| {
                let call = r.call.clone().unwrap();
                assert_eq!(call.function, "instrument::look_up");
                assert!(call.duration_ms >= 0.0);
                let key = r.properties.get("key").and_then(|v| v.as_str()).unwrap();
                let attempt = match r.properties.get("attempt") {
                    Some(telemetry_core::Value::UInt(n)) => *n,
                    other => panic!("attempt: {other:?}"),
                };
                (key.to_owned(), attempt, call.outcome, call.error_kind)
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("short".to_owned(), 0, Outcome::Ok, None),
                (long_key.clone(), 0, Outcome::Ok, None),
                (
                    "short".to_owned(),
                    1,
                    Outcome::Error,
                    Some("AnErrorTypeWithAVeryLongNameThatDoesNotFitInTheQueueSlotOfAnEventAtAllNotEvenCloseSoItSpills".to_owned())
                ),
            ],
            "to memory: {to_memory}"
        );
    }
}

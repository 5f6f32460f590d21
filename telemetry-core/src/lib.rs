//! Typed product telemetry: every event is a Rust type, and the tracking plan is
//! generated from the code.
//!
//! - [`#[derive(TelemetryEvent)]`](derive@TelemetryEvent) turns a struct into an event with
//!   a static schema (name, description, owner, typed properties, personal data
//!   handling) registered in the [`catalog()`] at compile time.
//! - [`emit!`] sends an event and records its call site in the catalog.
//! - [`init`] starts a background writer; records go to a JSONL file by default.
//! - [`testing::capture`] returns the events a piece of code emitted, for assertions.
//!
//! ```
//! use telemetry_core::{emit, TelemetryEvent, TelemetryProperty};
//!
//! /// A customer added a dish to the cart.
//! #[derive(TelemetryEvent)]
//! #[telemetry(name = "cart.item_added", category = "ordering", owner = "growth", version = 1)]
//! struct CartItemAdded {
//!     /// Dish added.
//!     dish_id: u64,
//!     /// Price of one portion, in cents.
//!     price_cents: u32,
//!     /// Where the customer found the dish.
//!     source: AddSource,
//!     /// Coupon code typed by the customer, if any.
//!     coupon: Option<String>,
//!     /// The customer's e-mail: leaves the process only as a keyed hash.
//!     #[telemetry(pii = "hash")]
//!     email: String,
//! }
//!
//! /// Where a dish was added from.
//! #[derive(TelemetryProperty)]
//! enum AddSource { Menu, Search, OrderAgain }
//!
//! let dir = std::env::temp_dir().join(format!("telemetry-doc-{}", std::process::id()));
//! let guard = telemetry_core::init(
//!     telemetry_core::Config::new("food-delivery", "1.4.0")
//!         .jsonl(dir.join("events.jsonl"))
//!         .pii_secret("a secret from your vault"),
//! );
//! emit!(CartItemAdded {
//!     dish_id: 7, price_cents: 1250, source: AddSource::OrderAgain,
//!     coupon: None, email: "ada@example.com".into(),
//! });
//! drop(guard); // writes what is queued
//!
//! let jsonl = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
//! assert!(jsonl.contains(r#""source":"order_again""#) && !jsonl.contains("ada@"));
//! # std::fs::remove_dir_all(dir).unwrap();
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod catalog;
mod event;
#[cfg(feature = "runtime")]
pub mod export;
pub mod instrument;
#[allow(unreachable_pub)] // shared file: its helpers are `pub` for the macro crate
mod naming;
pub mod pg;
mod property;
pub mod record;
#[cfg(feature = "runtime")]
mod runtime;
mod schema;
#[cfg(feature = "testing")]
pub mod testing;
mod value;

pub use catalog::{Catalog, CatalogEvent, catalog, set_event_enabled};
pub use event::{PropertyVisitor, TelemetryEvent};
pub use instrument::{ErrorKind, Outcome};
pub use property::{PropertyValue, TelemetryProperty};
pub use record::Record;
#[cfg(feature = "runtime")]
pub use runtime::{
    Config, Consent, DEFAULT_JSONL_PATH, DEFAULT_SESSION_TIMEOUT, DEFAULT_UNKNOWN_CONSENT_BUFFER,
    Delivery, Guard, HASH_BYTES, IDENTIFY_RECORD_NAME, InitError, JsonlSink, ManualClock,
    MemorySink, OPT_OUT_ENV, PII_SECRET_ENV, REDACTED, STATS_RECORD_NAME, Sink, Stats, StdoutSink,
    consent, context, emit_event, enabled, flush, identify, init, set_consent, stats, try_init,
};
pub use schema::{CallSite, EventSchema, Pii, PropertySchema, PropertyType};
pub use value::{Properties, Value};

/// Derives [`TelemetryEvent`](trait@TelemetryEvent) for a struct with named fields (or a
/// unit struct).
///
/// ```
/// # use telemetry_core::{TelemetryEvent, TelemetryProperty};
/// /// A payment attempt failed.                       // required: the catalog description
/// #[derive(TelemetryEvent)]
/// #[telemetry(
///     name = "payment.failed",   // required: lowercase `object.action`
///     category = "payment",      // optional product area
///     owner = "payments",        // optional (reported by Catalog::validate when missing)
///     version = 2,               // optional, default 1; bump on breaking changes
/// )]
/// struct PaymentFailed<'a> {
///     /// Amount in cents.                            // property description
///     amount_cents: u64,
///     /// Payment method.
///     #[telemetry(rename = "method")]                 // property name in records
///     payment_method: &'a str,
///     /// Card holder's e-mail.
///     #[telemetry(pii = "hash")]                      // "hash" | "redact" | "drop"
///     email: Option<String>,
///     #[telemetry(skip)]                              // not a property
///     retry_budget: Vec<u8>,
/// }
/// # let _ = PaymentFailed { amount_cents: 1, payment_method: "upi", email: None, retry_budget: vec![] };
/// ```
///
/// `#[telemetry(crate = "path::to::telemetry_core")]` names the crate when it is
/// re-exported or renamed.
pub use telemetry_macros::TelemetryEvent;

/// Derives [`TelemetryProperty`](trait@TelemetryProperty) for a unit-only enum: a string
/// property whose allowed values are listed in the catalog.
///
/// Values are the variant names in `snake_case` by default; change that with
/// `#[telemetry(rename_all = "...")]` (`lowercase`, `UPPERCASE`, `PascalCase`,
/// `camelCase`, `snake_case`, `SCREAMING_SNAKE_CASE`, `kebab-case`) on the enum or
/// `#[telemetry(rename = "...")]` on a variant.
///
/// ```
/// # use telemetry_core::TelemetryProperty;
/// #[derive(TelemetryProperty)]
/// enum PaymentMethod {
///     Card,
///     Upi,
///     #[telemetry(rename = "cash_on_delivery")]
///     Cash,
/// }
/// assert_eq!(<PaymentMethod as TelemetryProperty>::VALUES, ["card", "upi", "cash_on_delivery"]);
/// ```
pub use telemetry_macros::TelemetryProperty;

/// Sends one event per call of a function, with the call's duration and outcome.
///
/// ```
/// use telemetry_core::{instrument_event, testing, Outcome};
///
/// /// A customer paid for an order.                 // required: the catalog description
/// #[instrument_event(name = "checkout.payment", category = "payment", owner = "payments",
///                    fields(amount_cents, method, items: u32 = cart.len() as u32))]
/// fn pay(amount_cents: u64, method: &str, cart: &[u64], card: &str) -> Result<u64, std::num::ParseIntError> {
///     card.parse()                                  // `card` is not listed: never captured
/// }
///
/// let events = testing::capture(|| { let _ = pay(1250, "card", &[7, 8], "x"); });
/// let call = &events[0];
/// assert_eq!(call.name(), "checkout.payment");
/// assert_eq!(call["amount_cents"], 1250);
/// assert_eq!(call["items"], 2);
/// assert!(call.property("card").is_none());
/// assert_eq!(call.outcome(), Some(Outcome::Error));
/// assert_eq!(call.error_kind(), Some("ParseIntError"));
/// ```
///
/// - *Implicit mode* (above): the event's schema comes from the function: `name`
///   (required), `category`, `owner`, `version`, the doc comment as description, and
///   only the properties listed in `fields(...)`: an argument by name (`&T` arguments
///   are read as `T`), or `name: Type = expression` (`name = expr as Type` also works).
/// - *Typed mode*: `#[instrument_event(event = PaymentAttempted)]` fills a
///   `#[derive(TelemetryEvent)]` struct from the arguments of the same names (each
///   cloned when the call starts), or from `fields(field = expression, ..)` when given.
///   A missing or mistyped field is a compile error.
/// - Every call records `call.duration_ms` and `call.outcome`: `ok`, `error` (a
///   returned `Err`, with `call.error_kind`: the error type's name, or
///   [`ErrorKind`] when the error implements it), `panicked`
///   (the panic still propagates) or `cancelled` (a future dropped before completing).
/// - `async fn`, methods, generics, `impl Trait`, `-> impl Future` and
///   `-> Pin<Box<dyn Future>>` (as `#[async_trait]` writes them) work; a future
///   behind a type alias needs `future` in the attribute. `crate = "path"` names the
///   crate when it is re-exported.
///
/// When telemetry is off, the cost is one relaxed atomic load and a branch: no clock
/// is read and no argument is touched. See the README's "Instrumenting functions".
pub use telemetry_macros::instrument_event;

/// Emits an event and registers this call site in the [`catalog()`].
///
/// The macro needs to see the event's type, so that the catalog knows which events
/// each line of the program sends, even for code that never runs:
///
/// ```
/// # use telemetry_core::{emit, TelemetryEvent};
/// /// The app started.
/// #[derive(TelemetryEvent)]
/// #[telemetry(name = "app.started")]
/// struct AppStarted;
///
/// /// A search ran.
/// #[derive(TelemetryEvent)]
/// #[telemetry(name = "search.performed")]
/// struct SearchPerformed<'a> {
///     /// What was typed.
///     query: &'a str,
/// }
///
/// emit!(AppStarted);                                   // a unit struct
/// emit!(SearchPerformed { query: "pizza" });           // a struct literal
/// let event = SearchPerformed { query: "sushi" };
/// emit!(SearchPerformed, event);                       // a value, with its type
/// ```
///
/// Before [`init`] (and outside [`testing::capture`]) this costs one relaxed atomic
/// load: the event expression is evaluated only when telemetry is on, as `tracing`
/// does with its fields, so keep side effects out of it. It never blocks and never
/// panics.
#[macro_export]
macro_rules! emit {
    ($($input:tt)*) => {
        $crate::__private::emit_call_site! { ($crate) $($input)* }
    };
}

/// Defines a funnel at design time: the ordered events users go through, registered in
/// the [`catalog()`] so that `telemetry report` computes it without further arguments.
///
/// ```
/// # use telemetry_core::TelemetryEvent;
/// # /// A search ran.
/// # #[derive(TelemetryEvent)] #[telemetry(name = "search.performed")] struct SearchPerformed;
/// # /// A payment went through.
/// # #[derive(TelemetryEvent)] #[telemetry(name = "payment.completed")]
/// # struct PaymentCompleted {
/// #     /// How the customer paid.
/// #     method: String,
/// # }
/// telemetry_core::funnel! {
///     /// From searching to a paid order; where do hungry users give up?   // required
///     name = "ordering",       // required: lowercase snake_case
///     owner = "growth",        // optional
///     window = "1d",           // conversion window: `s`, `m`, `h`, `d`, `w`; default "1d"
///     steps = [SearchPerformed, PaymentCompleted where method = "upi"],
/// }
/// let funnel = telemetry_core::catalog().funnel("ordering").cloned().unwrap();
/// assert_eq!(funnel.steps[1].event, "payment.completed");
/// ```
///
/// Steps are event *types*: a type that is not a `TelemetryEvent` is a compile error
/// on it. A step may filter on properties, `Event where prop = "value" && other = 3`
/// (string, integer or boolean literals); filters are checked against the event's
/// schema by `Catalog::validate` (`invalid-funnel`). `crate = "path"` names the crate
/// when it is re-exported.
#[macro_export]
macro_rules! funnel {
    ($($input:tt)*) => {
        $crate::__private::funnel_definition! { ($crate) $($input)* }
    };
}

/// Whether emitted events go anywhere; always `false` without the `runtime` feature.
#[cfg(not(feature = "runtime"))]
#[inline]
pub fn enabled() -> bool {
    false
}

/// Hands an event to the pipeline (no-op without the `runtime` feature).
#[cfg(not(feature = "runtime"))]
#[inline]
pub fn emit_event<E: TelemetryEvent>(_event: &E) {}

/// Items used by generated code. Not public API: may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::catalog::{
        CallSiteRegistration, EventRegistration, FilterValue, FunnelRegistration, StepFilter,
        StepRegistration,
    };
    pub use crate::event::{PropertyVisitor, TelemetryEvent};
    pub use crate::instrument::{
        Branch, CallGuard, CallValues, FromResidual, Observed, Outcome, OutcomeOfErrorKind,
        OutcomeOfResult, OutcomeOfValue, ReturnType, Returned, UnseenExitOfResult,
        UnseenExitOfValue, watch,
    };
    pub use crate::property::{PropertyValue, TelemetryProperty};
    pub use crate::schema::{CallSite, EventSchema, Pii, PropertySchema, PropertyType, Str};
    pub use crate::{emit_event, enabled};
    pub use inventory;
    pub use std::borrow::Cow;
    pub use telemetry_macros::{emit_call_site, funnel_definition};
}

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

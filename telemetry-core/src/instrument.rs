//! `#[instrument_event]`: one event per call of a function, with how long the call took
//! and how it ended.
//!
//! The attribute (see [`instrument_event`](crate::instrument_event)) generates the code;
//! this module holds what it calls at run time: a drop guard that measures the call and
//! emits the event when the call ends, however it ends (returned, returned an error,
//! panicked, or, for a future, dropped before it completed).

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::ControlFlow;
use std::task::Poll;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::event::TelemetryEvent;
use crate::property::PropertyValue;
use crate::schema::EventSchema;
#[cfg(feature = "runtime")]
use crate::value::Value;

/// How an instrumented call ended, in the record's `call.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Returned normally (for a `Result`, an `Ok`; `None` of an `Option` is `ok` too).
    Ok,
    /// Returned an `Err`; the record's `call.error_kind` says which kind.
    Error,
    /// Panicked; the panic went on to the caller as before.
    Panicked,
    /// A future dropped before it completed (e.g. by a timeout or `select!`).
    Cancelled,
}

impl Outcome {
    /// The lowercase name used in records: `ok`, `error`, `panicked`, `cancelled`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Panicked => "panicked",
            Outcome::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of an error, recorded as `call.error_kind` when an instrumented function
/// returns `Err`.
///
/// Without an impl, the kind is the error type's name without its module path
/// (`ParseIntError`, `Box<dyn Error + Send + Sync>`, `Error` for `anyhow::Error`).
/// Implement it to tell kinds apart within one type, e.g. by enum variant. Return a
/// fixed vocabulary: never the error's `Display` text, which may hold personal data.
///
/// ```
/// use std::borrow::Cow;
/// use telemetry_core::instrument::ErrorKind;
///
/// enum PaymentError { CardDeclined { reason: String }, GatewayTimeout }
///
/// impl ErrorKind for PaymentError {
///     fn error_kind(&self) -> Cow<'static, str> {
///         match self {
///             PaymentError::CardDeclined { .. } => "card_declined".into(),
///             PaymentError::GatewayTimeout => "gateway_timeout".into(),
///         }
///     }
/// }
/// # let _ = PaymentError::CardDeclined { reason: String::new() }.error_kind();
/// ```
pub trait ErrorKind {
    /// A short, stable name for this error's kind.
    fn error_kind(&self) -> Cow<'static, str>;
}

/// A type name without module paths: `alloc::boxed::Box<dyn core::error::Error>`
/// becomes `Box<dyn Error>`.
#[cfg_attr(not(feature = "runtime"), allow(dead_code))]
pub(crate) fn short_type_name(full: &str) -> String {
    // Shortening only removes bytes: the input's length is enough.
    let mut out = vec![0; full.len()];
    let n = short_type_name_into(full, &mut out).unwrap_or_default();
    out.truncate(n);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`short_type_name`] into `out`, without allocating: the length written, or `None`
/// when it does not fit.
pub(crate) fn short_type_name_into(full: &str, out: &mut [u8]) -> Option<usize> {
    // Identifiers: ASCII letters, digits, `_`, and every byte of a non-ASCII
    // character (so a path segment is removed whole, never half a character).
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    let bytes = full.as_bytes();
    let (mut n, mut i) = (0, 0);
    while i < bytes.len() {
        if bytes[i..].starts_with(b"::") {
            // Drop the path segment just written.
            while n > 0 && ident(out[n - 1]) {
                n -= 1;
            }
            i += 2;
            continue;
        }
        *out.get_mut(n)? = bytes[i];
        n += 1;
        i += 1;
    }
    Some(n)
}

/// The kind of an error an instrumented call returned: named by its [`ErrorKind`]
/// impl, or the error type's name, shortened only when the event is written (the
/// common case allocates nothing).
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObservedKind {
    /// From [`ErrorKind::error_kind`].
    Named(Cow<'static, str>),
    /// `std::any::type_name` of the error type, with module paths.
    TypeName(&'static str),
}

impl ObservedKind {
    /// The kind as records hold it.
    #[cfg_attr(not(feature = "runtime"), allow(dead_code))]
    pub(crate) fn into_string(self) -> String {
        match self {
            ObservedKind::Named(name) => name.into_owned(),
            ObservedKind::TypeName(full) => short_type_name(full),
        }
    }

    /// The kind as records hold it, into `out`: the length, or `None` if too long.
    #[cfg_attr(not(feature = "runtime"), allow(dead_code))]
    pub(crate) fn write_into(&self, out: &mut [u8]) -> Option<usize> {
        match self {
            ObservedKind::Named(name) => {
                out.get_mut(..name.len())?.copy_from_slice(name.as_bytes());
                Some(name.len())
            }
            ObservedKind::TypeName(full) => short_type_name_into(full, out),
        }
    }
}

/// What an observed return value says about the call: outcome and error kind.
#[doc(hidden)]
pub type Observed = (Outcome, Option<ObservedKind>);

/// A borrowed return value, for the outcome methods below: generated code calls
/// `(&&&Returned(&value)).__telemetry_outcome()`, and method resolution picks the most
/// specific impl for the value's type (a `Result` whose error implements [`ErrorKind`],
/// any `Result`, anything else), so `type Fallible<T> = Result<T, E>` counts as a
/// `Result` while a user's own `struct Result` does not.
#[doc(hidden)]
pub struct Returned<'a, T: ?Sized>(pub &'a T);

#[doc(hidden)]
pub trait OutcomeOfErrorKind {
    fn __telemetry_outcome(&self) -> Observed;
}
#[doc(hidden)]
pub trait OutcomeOfResult {
    fn __telemetry_outcome(&self) -> Observed;
}
#[doc(hidden)]
pub trait OutcomeOfValue {
    fn __telemetry_outcome(&self) -> Observed;
}

impl<T, E: ErrorKind> OutcomeOfErrorKind for &&Returned<'_, Result<T, E>> {
    fn __telemetry_outcome(&self) -> Observed {
        match self.0 {
            Ok(_) => (Outcome::Ok, None),
            Err(e) => (Outcome::Error, Some(ObservedKind::Named(e.error_kind()))),
        }
    }
}

impl<T, E> OutcomeOfResult for &Returned<'_, Result<T, E>> {
    fn __telemetry_outcome(&self) -> Observed {
        match self.0 {
            Ok(_) => (Outcome::Ok, None),
            Err(_) => (Outcome::Error, Some(error_type_kind::<E>())),
        }
    }
}

impl<T: ?Sized> OutcomeOfValue for Returned<'_, T> {
    fn __telemetry_outcome(&self) -> Observed {
        (Outcome::Ok, None)
    }
}

fn error_type_kind<E: ?Sized>() -> ObservedKind {
    ObservedKind::TypeName(std::any::type_name::<E>())
}

/// The declared return type, for the outcome of an exit whose value the macro cannot
/// see (a `?`, or a `return` written inside a macro such as `anyhow::bail!`): for a
/// `Result`, that is an error of the declared error type; otherwise `ok`.
#[doc(hidden)]
pub struct ReturnType<T: ?Sized>(PhantomData<fn(&T)>);

impl<T: ?Sized> ReturnType<T> {
    #[doc(hidden)]
    pub const NEW: Self = ReturnType(PhantomData);
}

#[doc(hidden)]
pub trait UnseenExitOfResult {
    fn __telemetry_unseen_exit(&self) -> Observed;
}
#[doc(hidden)]
pub trait UnseenExitOfValue {
    fn __telemetry_unseen_exit(&self) -> Observed;
}

impl<T, E> UnseenExitOfResult for &ReturnType<Result<T, E>> {
    fn __telemetry_unseen_exit(&self) -> Observed {
        (Outcome::Error, Some(error_type_kind::<E>()))
    }
}

impl<T: ?Sized> UnseenExitOfValue for ReturnType<T> {
    fn __telemetry_unseen_exit(&self) -> Observed {
        (Outcome::Ok, None)
    }
}

/// The `?` operator of a sync instrumented function, rewritten so that the function's
/// own error value (after `From` conversion) is observed like a returned one. Stable
/// Rust cannot implement `std::ops::Try` for other types, so these impls mirror every
/// `Try` impl of the standard library: `Result`, `Option`, `Poll<Result>`,
/// `Poll<Option<Result>>` and `ControlFlow`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`?` on `{Self}` is not supported in an `#[instrument_event]` function",
    note = "`?` works on `Result`, `Option`, `Poll<Result>`, `Poll<Option<Result>>` and `ControlFlow`"
)]
pub trait Branch {
    type Output;
    type Residual;
    fn branch(self) -> ControlFlow<Self::Residual, Self::Output>;
}

impl<T, E> Branch for Result<T, E> {
    type Output = T;
    type Residual = Result<Infallible, E>;
    #[inline]
    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Ok(v) => ControlFlow::Continue(v),
            Err(e) => ControlFlow::Break(Err(e)),
        }
    }
}

impl<T> Branch for Option<T> {
    type Output = T;
    type Residual = Option<Infallible>;
    #[inline]
    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Some(v) => ControlFlow::Continue(v),
            None => ControlFlow::Break(None),
        }
    }
}

impl<T, E> Branch for Poll<Result<T, E>> {
    type Output = Poll<T>;
    type Residual = Result<Infallible, E>;
    #[inline]
    fn branch(self) -> ControlFlow<Self::Residual, Poll<T>> {
        match self {
            Poll::Ready(Ok(v)) => ControlFlow::Continue(Poll::Ready(v)),
            Poll::Ready(Err(e)) => ControlFlow::Break(Err(e)),
            Poll::Pending => ControlFlow::Continue(Poll::Pending),
        }
    }
}

impl<T, E> Branch for Poll<Option<Result<T, E>>> {
    type Output = Poll<Option<T>>;
    type Residual = Result<Infallible, E>;
    #[inline]
    fn branch(self) -> ControlFlow<Self::Residual, Poll<Option<T>>> {
        match self {
            Poll::Ready(Some(Ok(v))) => ControlFlow::Continue(Poll::Ready(Some(v))),
            Poll::Ready(Some(Err(e))) => ControlFlow::Break(Err(e)),
            Poll::Ready(None) => ControlFlow::Continue(Poll::Ready(None)),
            Poll::Pending => ControlFlow::Continue(Poll::Pending),
        }
    }
}

impl<B, C> Branch for ControlFlow<B, C> {
    type Output = C;
    type Residual = ControlFlow<B, Infallible>;
    #[inline]
    fn branch(self) -> ControlFlow<Self::Residual, C> {
        match self {
            ControlFlow::Continue(c) => ControlFlow::Continue(c),
            ControlFlow::Break(b) => ControlFlow::Break(ControlFlow::Break(b)),
        }
    }
}

/// The return value that a `?` makes of a residual (see [`Branch`]).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`?` cannot turn `{R}` into the function's return type `{Self}`",
    note = "as with `?` anywhere: the error must convert with `From`, and `?` on an `Option` needs a function returning `Option`"
)]
pub trait FromResidual<R> {
    fn from_residual(residual: R) -> Self;
}

impl<T, E, F: From<E>> FromResidual<Result<Infallible, E>> for Result<T, F> {
    #[inline]
    fn from_residual(residual: Result<Infallible, E>) -> Self {
        match residual {
            Err(e) => Err(From::from(e)),
        }
    }
}

impl<T> FromResidual<Option<Infallible>> for Option<T> {
    #[inline]
    fn from_residual(_: Option<Infallible>) -> Self {
        None
    }
}

impl<T, E, F: From<E>> FromResidual<Result<Infallible, E>> for Poll<Result<T, F>> {
    #[inline]
    fn from_residual(residual: Result<Infallible, E>) -> Self {
        match residual {
            Err(e) => Poll::Ready(Err(From::from(e))),
        }
    }
}

impl<T, E, F: From<E>> FromResidual<Result<Infallible, E>> for Poll<Option<Result<T, F>>> {
    #[inline]
    fn from_residual(residual: Result<Infallible, E>) -> Self {
        match residual {
            Err(e) => Poll::Ready(Some(Err(From::from(e)))),
        }
    }
}

impl<B, C> FromResidual<ControlFlow<B, Infallible>> for ControlFlow<B, C> {
    #[inline]
    fn from_residual(residual: ControlFlow<B, Infallible>) -> Self {
        match residual {
            ControlFlow::Break(b) => ControlFlow::Break(b),
        }
    }
}

/// Property values of an instrumented call, read when the call starts (arguments may
/// be moved or changed by the body): encoded as in a queue slot when they fit (no
/// allocation), else owned.
#[doc(hidden)]
pub struct CallValues {
    #[cfg(feature = "runtime")]
    values: Result<crate::runtime::Inline, Vec<(usize, Value)>>,
}

impl CallValues {
    /// Room for `n` values (the encoded form needs no reservation).
    #[doc(hidden)]
    #[inline]
    pub fn with_capacity(n: usize) -> CallValues {
        let _ = n;
        CallValues {
            #[cfg(feature = "runtime")]
            values: Ok(crate::runtime::Inline::EMPTY),
        }
    }

    #[doc(hidden)]
    #[inline]
    pub fn push(&mut self, index: usize, value: PropertyValue<'_>) {
        #[cfg(feature = "runtime")]
        match &mut self.values {
            Ok(inline) => {
                if !inline.push(index, value) {
                    // Too long for a slot: the rare allocating path.
                    let mut owned = Vec::new();
                    inline.values_into(false, &mut owned);
                    owned.extend(Value::from_property(value).map(|v| (index, v)));
                    self.values = Err(owned);
                }
            }
            Err(owned) => owned.extend(Value::from_property(value).map(|v| (index, v))),
        }
        #[cfg(not(feature = "runtime"))]
        let _ = (index, value);
    }

    /// The values of a typed event, in schema order.
    #[doc(hidden)]
    pub fn of_event<E: TelemetryEvent>(event: &E) -> CallValues {
        let mut values = CallValues::with_capacity(E::schema().properties.len());
        event.visit_properties(&mut |index: usize, value: PropertyValue<'_>| {
            values.push(index, value);
        });
        values
    }

    /// The encoded values, or the owned ones when they did not fit.
    #[cfg(feature = "runtime")]
    pub(crate) fn into_inline(self) -> Result<crate::runtime::Inline, Vec<(usize, Value)>> {
        self.values
    }

    /// The values, owned.
    #[cfg(feature = "testing")]
    pub(crate) fn into_owned(self) -> Vec<(usize, Value)> {
        match self.values {
            Ok(inline) => {
                let mut owned = Vec::new();
                inline.values_into(false, &mut owned);
                owned
            }
            Err(owned) => owned,
        }
    }
}

/// Measures one call and emits its event when dropped. Generated code creates it only
/// when [`enabled`](crate::enabled()) says someone listens; otherwise it is
/// [`CallGuard::disabled`] and every method is a branch on `None`.
#[doc(hidden)]
#[must_use]
pub struct CallGuard {
    // Inline, not boxed: a measured call allocates nothing. `ManuallyDrop` because
    // `Drop` below always takes the call out and finishes it: the field then needs no
    // drop glue, so when telemetry is off the guard costs writing and testing its
    // discriminant, and no call.
    active: Option<ManuallyDrop<ActiveCall>>,
}

struct ActiveCall {
    schema: &'static EventSchema,
    function: &'static &'static str,
    values: CallValues,
    start: Instant,
    /// A future: an unfinished drop is a cancellation, not an unseen return.
    future: bool,
    /// Whether the thread was already unwinding when the call started (a call made
    /// from a destructor during a panic is not itself panicking).
    panicking_at_start: bool,
    /// Set by the poll probe when a poll of the future unwinds.
    panicked_in_poll: bool,
    observed: Option<Observed>,
    unseen_exit: Observed,
}

impl CallGuard {
    /// A guard that records nothing. A function rather than a constant: a constant of
    /// this size would be copied whole from read-only memory, where building `None`
    /// writes one word.
    #[doc(hidden)]
    #[inline(always)]
    pub fn disabled() -> CallGuard {
        CallGuard { active: None }
    }

    /// Starts measuring a call: reads the monotonic clock. `unseen_exit` is the
    /// outcome of an exit whose return value the generated code cannot see.
    #[doc(hidden)]
    #[inline(never)]
    pub fn start(
        schema: &'static EventSchema,
        function: &'static &'static str,
        values: CallValues,
        future: bool,
        unseen_exit: Observed,
    ) -> CallGuard {
        CallGuard {
            active: Some(ManuallyDrop::new(ActiveCall {
                schema,
                function,
                values,
                start: Instant::now(),
                future,
                panicking_at_start: std::thread::panicking(),
                panicked_in_poll: false,
                observed: None,
                unseen_exit,
            })),
        }
    }

    /// Whether this call is measured.
    #[doc(hidden)]
    #[inline]
    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    /// Records what the return value says about the call.
    #[doc(hidden)]
    pub fn observe(&mut self, observed: Observed) {
        if let Some(active) = &mut self.active {
            active.observed = Some(observed);
        }
    }
}

impl Drop for CallGuard {
    #[inline]
    fn drop(&mut self) {
        if let Some(active) = self.active.take() {
            finish(ManuallyDrop::into_inner(active));
        }
    }
}

/// Ends a measured call: outcome, duration, and the event.
#[cold]
#[inline(never)]
fn finish(active: ActiveCall) {
    let ActiveCall {
        schema,
        function,
        values,
        start,
        future,
        panicking_at_start,
        panicked_in_poll,
        observed,
        unseen_exit,
    } = active;
    let duration = start.elapsed();
    let panicked_here = std::thread::panicking() && !panicking_at_start;
    let (outcome, kind) = match observed {
        Some(observed) => observed,
        None if panicked_in_poll => (Outcome::Panicked, None),
        None if future => (Outcome::Cancelled, None),
        None if panicked_here => (Outcome::Panicked, None),
        None => unseen_exit,
    };
    #[cfg(feature = "runtime")]
    crate::runtime::emit_call(schema, function, values, (duration, outcome, kind));
    #[cfg(not(feature = "runtime"))]
    let _ = (schema, function, values, duration, outcome, kind);
}

/// Polls `future` to completion, telling `guard` when a poll panics: a future whose
/// panic is caught (`catch_unwind`, a runtime's task) and that is dropped later is
/// `panicked`, not `cancelled`.
#[doc(hidden)]
pub async fn watch<F: Future>(future: F, guard: &mut CallGuard) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| {
        if guard.active.is_none() {
            return future.as_mut().poll(cx);
        }
        let probe = PollProbe {
            was_panicking: std::thread::panicking(),
            guard: &mut *guard,
        };
        let poll = future.as_mut().poll(cx);
        drop(probe);
        poll
    })
    .await
}

struct PollProbe<'a> {
    guard: &'a mut CallGuard,
    was_panicking: bool,
}

impl Drop for PollProbe<'_> {
    fn drop(&mut self) {
        if !self.was_panicking
            && std::thread::panicking()
            && let Some(active) = &mut self.guard.active
        {
            active.panicked_in_poll = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_guard_stays_small() {
        // It lives on the stack, or in an instrumented future, for the whole call.
        let size = std::mem::size_of::<CallGuard>();
        assert!(size <= 224, "{size}");
    }

    #[test]
    fn short_names() {
        assert_eq!(
            short_type_name("core::num::error::ParseIntError"),
            "ParseIntError"
        );
        assert_eq!(
            short_type_name(
                "alloc::boxed::Box<dyn core::error::Error + core::marker::Send + core::marker::Sync>"
            ),
            "Box<dyn Error + Send + Sync>"
        );
        assert_eq!(short_type_name("shop::Error<u8, a::B>"), "Error<u8, B>");
        assert_eq!(short_type_name("()"), "()");
        assert_eq!(short_type_name("café::Größe<ü::Ärger>"), "Größe<Ärger>");
        let mut out = [0; 13];
        assert_eq!(
            short_type_name_into("core::num::error::ParseIntError", &mut out),
            Some(13)
        );
        assert_eq!(&out, b"ParseIntError");
        let mut short = [0; 12];
        assert_eq!(
            short_type_name_into("core::num::error::ParseIntError", &mut short),
            None
        );
        let kind = ObservedKind::TypeName("a::b::Oops");
        assert_eq!(kind.write_into(&mut out), Some(4));
        assert_eq!(kind.into_string(), "Oops");
        let named = ObservedKind::Named("declined".into());
        assert_eq!(named.write_into(&mut [0; 7]), None);
        assert_eq!(named.write_into(&mut out), Some(8));
        assert_eq!(&out[..8], b"declined");
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the borrows pick the impl, as in generated code
    fn outcome_by_trait_not_spelling() {
        struct Kinded;
        impl ErrorKind for Kinded {
            fn error_kind(&self) -> Cow<'static, str> {
                "kinded".into()
            }
        }
        type Fallible<T> = Result<T, std::num::ParseIntError>;
        let e: Fallible<u8> = "x".parse();
        assert_eq!(
            (&&&Returned(&e)).__telemetry_outcome(),
            (
                Outcome::Error,
                Some(ObservedKind::TypeName("core::num::error::ParseIntError"))
            )
        );
        let k: Result<(), Kinded> = Err(Kinded);
        assert_eq!(
            (&&&Returned(&k)).__telemetry_outcome(),
            (Outcome::Error, Some(ObservedKind::Named("kinded".into())))
        );
        let none: Option<u8> = None;
        assert_eq!(
            (&&&Returned(&none)).__telemetry_outcome(),
            (Outcome::Ok, None)
        );
        assert_eq!(
            (&&ReturnType::<Fallible<u8>>::NEW).__telemetry_unseen_exit(),
            (
                Outcome::Error,
                Some(ObservedKind::TypeName("core::num::error::ParseIntError"))
            )
        );
        assert_eq!(
            (&&ReturnType::<u8>::NEW).__telemetry_unseen_exit(),
            (Outcome::Ok, None)
        );
    }
}

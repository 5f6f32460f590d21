//! Helpers for users' tests: capture emitted events, keep the catalog file in sync.

use std::cell::RefCell;
use std::fmt;
use std::path::Path;

use crate::event::TelemetryEvent;
use crate::instrument::Outcome;
use crate::record::{Call, Timestamp};
use crate::runtime::{PendingEvent, add_capture_scope, remove_capture_scope};
use crate::schema::EventSchema;
use crate::value::{Properties, Value};

/// Environment variable that makes [`assert_catalog_snapshot`] rewrite the snapshot
/// instead of failing: `TELEMETRY_UPDATE_CATALOG=1 cargo test`.
pub const UPDATE_CATALOG_ENV: &str = "TELEMETRY_UPDATE_CATALOG";

thread_local! {
    static CAPTURES: RefCell<Vec<Vec<CapturedEvent>>> = const { RefCell::new(Vec::new()) };
}

/// Whether this thread has an open capture scope (asked by the emit path only while
/// some scope is open anywhere).
pub(crate) fn capturing() -> bool {
    CAPTURES.with(|c| !c.borrow().is_empty())
}

/// Keeps an event in this thread's innermost capture scope.
pub(crate) fn capture_event(pending: PendingEvent) {
    CAPTURES.with(|c| {
        if let Some(top) = c.borrow_mut().last_mut() {
            top.push(CapturedEvent::from_pending(pending));
        }
    });
}

/// Runs `f` and returns the events it emitted on this thread, in order.
///
/// Captured events are not sent to the pipeline, so tests neither need `init` nor
/// write files. Each test thread captures its own events, so parallel tests do not see
/// each other's events; events emitted on other threads that `f` starts are not
/// captured. Property values are the raw values the code emitted (before personal data
/// handling), so tests can check them; [`CapturedEvent::schema`] tells how each is
/// handled on the way out.
///
/// ```
/// use telemetry_core::{emit, testing, TelemetryEvent};
///
/// /// A coupon was applied to the cart.
/// #[derive(TelemetryEvent)]
/// #[telemetry(name = "coupon.applied", owner = "growth")]
/// struct CouponApplied {
///     /// Discount in cents.
///     discount_cents: u32,
/// }
///
/// let events = testing::capture(|| {
///     emit!(CouponApplied { discount_cents: 300 });
/// });
/// assert_eq!(events.names(), ["coupon.applied"]);
/// assert_eq!(events[0]["discount_cents"], 300);
/// ```
pub fn capture(f: impl FnOnce()) -> Captured {
    struct Scope;
    impl Drop for Scope {
        fn drop(&mut self) {
            remove_capture_scope();
        }
    }
    CAPTURES.with(|c| c.borrow_mut().push(Vec::new()));
    add_capture_scope();
    let scope = Scope;
    // If `f` panics, the scope is still closed and the stack popped (by the next
    // capture on this thread, which would otherwise see stale events).
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            if std::thread::panicking() {
                CAPTURES.with(|c| c.borrow_mut().pop());
            }
        }
    }
    let pop = Pop;
    f();
    drop(pop);
    drop(scope);
    Captured(CAPTURES.with(|c| c.borrow_mut().pop()).unwrap_or_default())
}

/// The events emitted inside [`capture`]; derefs to a slice of [`CapturedEvent`].
#[derive(Debug, Clone, Default)]
pub struct Captured(Vec<CapturedEvent>);

impl Captured {
    /// Event names in emit order.
    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.name()).collect()
    }

    /// The captured events of type `E`.
    pub fn of<E: TelemetryEvent>(&self) -> impl Iterator<Item = &CapturedEvent> {
        self.0.iter().filter(|e| e.is::<E>())
    }

    /// The one captured event of type `E`; panics with the captured names otherwise.
    #[track_caller]
    pub fn single<E: TelemetryEvent>(&self) -> &CapturedEvent {
        let matching: Vec<_> = self.of::<E>().collect();
        match matching.as_slice() {
            [one] => one,
            other => panic!(
                "expected exactly one `{}` event, captured {} (all captured events: {:?})",
                E::schema().name,
                other.len(),
                self.names()
            ),
        }
    }

    /// The events, consuming the capture.
    pub fn into_vec(self) -> Vec<CapturedEvent> {
        self.0
    }
}

impl std::ops::Deref for Captured {
    type Target = [CapturedEvent];
    fn deref(&self) -> &[CapturedEvent] {
        &self.0
    }
}

impl IntoIterator for Captured {
    type Item = CapturedEvent;
    type IntoIter = std::vec::IntoIter<CapturedEvent>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// One event emitted inside [`capture`].
#[derive(Clone)]
pub struct CapturedEvent {
    schema: &'static EventSchema,
    id: uuid::Uuid,
    timestamp: Timestamp,
    properties: Properties,
    call: Option<Call>,
}

impl CapturedEvent {
    fn from_pending(p: PendingEvent) -> CapturedEvent {
        let schema = p.schema;
        let properties = p
            .values
            .into_iter()
            .filter_map(|(i, v)| Some((schema.properties.get(i)?.name.to_string(), v)))
            .collect();
        CapturedEvent {
            schema,
            id: p.id,
            timestamp: p.timestamp,
            properties: Properties(properties),
            call: p.call,
        }
    }

    /// The event name.
    pub fn name(&self) -> &str {
        &self.schema.name
    }

    /// The event's schema version.
    pub fn version(&self) -> u32 {
        self.schema.version
    }

    /// The event's full schema.
    pub fn schema(&self) -> &'static EventSchema {
        self.schema
    }

    /// The event id that the record would carry.
    pub fn id(&self) -> uuid::Uuid {
        self.id
    }

    /// When the event was emitted.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// A property's raw value; `None` if the event has no such property or an optional
    /// one was `None`.
    pub fn property(&self, name: &str) -> Option<&Value> {
        self.properties.get(name)
    }

    /// Every present property, in declaration order.
    pub fn properties(&self) -> &Properties {
        &self.properties
    }

    /// For an `#[instrument_event]` call: the record's `call` object (function,
    /// duration, outcome, error kind); `None` for events sent with `emit!`.
    pub fn call(&self) -> Option<&Call> {
        self.call.as_ref()
    }

    /// How the instrumented call ended; `None` for events sent with `emit!`.
    pub fn outcome(&self) -> Option<Outcome> {
        self.call.as_ref().map(|c| c.outcome)
    }

    /// How long the instrumented call took; `None` for events sent with `emit!`.
    pub fn duration(&self) -> Option<std::time::Duration> {
        self.call.as_ref().map(Call::duration)
    }

    /// The error kind of an instrumented call that returned `Err`.
    pub fn error_kind(&self) -> Option<&str> {
        self.call.as_ref()?.error_kind.as_deref()
    }

    /// Whether this is an event of type `E`.
    pub fn is<E: TelemetryEvent>(&self) -> bool {
        std::ptr::eq(self.schema, E::schema())
    }
}

impl std::ops::Index<&str> for CapturedEvent {
    type Output = Value;

    /// The property's value; panics naming the event and its present properties when
    /// it is absent.
    #[track_caller]
    fn index(&self, name: &str) -> &Value {
        match self.property(name) {
            Some(v) => v,
            None => panic!(
                "event `{}` has no property `{name}` (present: {:?})",
                self.name(),
                self.properties.iter().map(|(k, _)| k).collect::<Vec<_>>()
            ),
        }
    }
}

impl fmt::Debug for CapturedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapturedEvent")
            .field("name", &self.name())
            .field("version", &self.version())
            .field("properties", &self.properties)
            .field("call", &self.call)
            .finish()
    }
}

/// Checks that the catalog of this test binary matches the committed catalog file at
/// `path`, and panics with a line diff otherwise.
///
/// Run with `TELEMETRY_UPDATE_CATALOG=1` ([`UPDATE_CATALOG_ENV`]) to write the current
/// catalog instead. A missing file is written on first run, except under CI (the `CI`
/// environment variable is set), where it fails: the snapshot must be committed.
///
/// The catalog of a test binary holds the events of every crate it links; call this
/// from an integration test of the crate whose tracking plan the file documents.
///
/// Relative paths are resolved from the current directory, which `cargo test` sets to
/// the package's root.
#[track_caller]
pub fn assert_catalog_snapshot(path: impl AsRef<Path>) {
    let flag = |name: &str| {
        std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
    };
    let actual = crate::catalog().to_json();
    if let Err(message) =
        check_snapshot(path.as_ref(), &actual, flag(UPDATE_CATALOG_ENV), flag("CI"))
    {
        panic!("{message}");
    }
}

/// Compares `actual` with the file at `path`, writing it when asked to (`update`) or
/// when it is missing outside CI. Returns the message to panic with otherwise.
fn check_snapshot(path: &Path, actual: &str, update: bool, in_ci: bool) -> Result<(), String> {
    let expected = match std::fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(format!(
                "cannot read the catalog snapshot `{}`: {e}",
                path.display()
            ));
        }
    };
    if expected.as_deref() == Some(actual) {
        return Ok(());
    }
    if update || (expected.is_none() && !in_ci) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                format!(
                    "cannot create `{}` for the catalog snapshot: {e}",
                    dir.display()
                )
            })?;
        }
        std::fs::write(path, actual).map_err(|e| {
            format!(
                "cannot write the catalog snapshot `{}`: {e}",
                path.display()
            )
        })?;
        eprintln!("telemetry: wrote the catalog snapshot `{}`", path.display());
        return Ok(());
    }
    Err(match expected {
        None => format!(
            "the catalog snapshot `{}` does not exist; run `{UPDATE_CATALOG_ENV}=1 cargo test` and commit it",
            path.display()
        ),
        Some(expected) => format!(
            "the catalog differs from the snapshot `{}` (- snapshot, + code):\n{}\nIf the change is intended, run `{UPDATE_CATALOG_ENV}=1 cargo test` and commit the file.",
            path.display(),
            line_diff(&expected, actual)
        ),
    })
}

/// A unified diff with three lines of context.
fn line_diff(old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header("snapshot", "code")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_is_written_compared_and_updated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/catalog.json");
        // Missing: written outside CI, an error in CI.
        let err = check_snapshot(&path, "a\nb\n", false, true).unwrap_err();
        assert!(
            err.contains("does not exist") && err.contains(UPDATE_CATALOG_ENV),
            "{err}"
        );
        assert!(!path.exists());
        check_snapshot(&path, "a\nb\n", false, false).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\nb\n");
        // Same: passes, also in CI.
        check_snapshot(&path, "a\nb\n", false, true).unwrap();
        // Different: a diff naming the file, and the file is left alone.
        let err = check_snapshot(&path, "a\nc\n", false, false).unwrap_err();
        assert!(
            err.contains("-b\n") && err.contains("+c\n") && err.contains("sub/catalog.json"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\nb\n");
        // Update: rewritten.
        check_snapshot(&path, "a\nc\n", true, true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\nc\n");
    }

    #[test]
    fn snapshot_of_this_binary_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.json");
        std::fs::write(&path, crate::catalog().to_json()).unwrap();
        assert_catalog_snapshot(&path);
    }

    #[test]
    fn diff_marks_changed_lines() {
        let d = line_diff("a\nb\nc\n", "a\nB\nc\n");
        assert!(d.contains("-b\n") && d.contains("+B\n"), "{d}");
    }
}

//! The pipeline behind `emit!`: a bounded queue and one background writer thread.
//!
//! The emitting thread encodes the event's property values (no names, no formatting,
//! no allocation for scalars, enums and short strings) with a coarse timestamp into a
//! slot of a preallocated lock-free queue (`queue.rs`), without blocking; when the
//! queue is full the event is dropped and counted. The writer thread (`worker.rs`)
//! applies consent (`policy.rs`), sampling and personal data handling (`pii.rs`),
//! stamps the id, adds the context (with the event's scope, `context.rs`) and writes
//! batches to the sinks. Before `init` (and after the guard is
//! dropped) emitting costs one relaxed atomic load.

mod clock;
mod config;
pub mod context;
mod inline;
mod jsonl;
mod pii;
mod policy;
mod queue;
mod ring;
mod sink;
mod worker;

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use clock::ManualClock;
pub use config::{
    Config, DEFAULT_JSONL_PATH, DEFAULT_SESSION_TIMEOUT, OPT_OUT_ENV, PII_SECRET_ENV,
};
pub(crate) use inline::Inline;
pub use pii::{HASH_BYTES, REDACTED};
pub use policy::{Consent, DEFAULT_UNKNOWN_CONSENT_BUFFER, consent, set_consent};
pub use sink::{Delivery, JsonlSink, MemorySink, Sink, StdoutSink};

use crate::event::TelemetryEvent;
use crate::instrument::{CallValues, ObservedKind, Outcome};
use crate::record::{Call, Context, Timestamp};
use crate::schema::{EventSchema, Pii};
use crate::value::Value;
use queue::{Control, Hints, Identify, Item, Shared};

/// Name of the periodic internal stats record (`"type":"stats"`).
pub const STATS_RECORD_NAME: &str = "telemetry.stats";

/// Name of the record [`identify`] writes (`"type":"identify"`).
pub const IDENTIFY_RECORD_NAME: &str = "telemetry.identify";

/// What every emit reads, on a cache line of its own: no other static's writes (the
/// pipeline's lock, counters) evict it from the emitting threads' caches.
#[repr(align(128))]
struct Hot {
    /// Bit 0: a pipeline is running. Bits 1..: number of active `testing::capture`
    /// scopes. One relaxed load of this word is the whole cost of `emit!` when nothing
    /// listens.
    state: AtomicUsize,
    /// Bumped whenever [`PIPELINE`] changes, so cached handles know they are stale.
    generation: AtomicU64,
}

static HOT: Hot = Hot {
    state: AtomicUsize::new(0),
    generation: AtomicU64::new(1),
};
static STATE: &AtomicUsize = &HOT.state;
static GENERATION: &AtomicU64 = &HOT.generation;
const RUNNING: usize = 1;
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) const CAPTURE_UNIT: usize = 2;

/// The running pipeline. Emitting threads read it once per pipeline and cache it
/// (see [`LOCAL`]), so the hot path takes no lock.
static PIPELINE: RwLock<Option<Arc<Shared>>> = RwLock::new(None);

/// The last pipeline, kept after it stops so `stats()` can still read its counters. A
/// writer that outlives a timed-out shutdown keeps counting into its own pipeline.
static LAST: RwLock<Option<Arc<Shared>>> = RwLock::new(None);

thread_local! {
    /// This thread's handle on the pipeline, and the generation it was read at. Holds
    /// the last pipeline's queue alive until the thread emits again or exits.
    static LOCAL: RefCell<(u64, Option<Arc<Shared>>, Hints)> =
        const { RefCell::new((0, None, Hints::NEW)) };
}

/// An event as `testing::capture` receives it (owned values; the capture path may
/// allocate).
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) struct PendingEvent {
    pub(crate) schema: &'static EventSchema,
    pub(crate) id: uuid::Uuid,
    pub(crate) timestamp: Timestamp,
    /// `(property index in the schema, value)` for every present property.
    pub(crate) values: Vec<(usize, Value)>,
    /// For `#[instrument_event]` calls: function, duration, outcome.
    pub(crate) call: Option<Call>,
}

/// Whether an emitted event would go anywhere: a pipeline is running or a
/// `testing::capture` scope is open. One relaxed atomic load.
#[inline]
pub fn enabled() -> bool {
    STATE.load(Ordering::Relaxed) != 0
}

/// Hands one event to the pipeline (or to the innermost `testing::capture` on this
/// thread). Called by `emit!` and [`TelemetryEvent::emit`].
#[inline]
pub fn emit_event<E: TelemetryEvent>(event: &E) {
    let state = STATE.load(Ordering::Relaxed);
    if state == 0 {
        return;
    }
    emit_slow(state, E::schema(), event);
}

#[inline(never)]
fn emit_slow(state: usize, schema: &'static EventSchema, event: &dyn TelemetryEvent) {
    #[cfg(feature = "testing")]
    if state >= CAPTURE_UNIT && crate::testing::capturing() {
        let mut values = Vec::with_capacity(schema.properties.len());
        event.visit_properties(
            &mut |index: usize, value: crate::property::PropertyValue<'_>| {
                if let Some(v) = Value::from_property(value) {
                    values.push((index, v));
                }
            },
        );
        crate::testing::capture_event(pending(schema, values, None));
        return;
    }
    if state & RUNNING != 0 {
        with_pipeline(|shared, hints| shared.emit(hints, schema, event));
    }
}

#[cfg_attr(not(feature = "testing"), allow(dead_code))]
fn pending(
    schema: &'static EventSchema,
    values: Vec<(usize, Value)>,
    call: Option<Call>,
) -> PendingEvent {
    PendingEvent {
        schema,
        id: uuid::Uuid::now_v7(),
        timestamp: Timestamp::now(),
        values,
        call,
    }
}

/// Runs `f` with the current pipeline, from this thread's cached handle.
#[inline]
fn with_pipeline(f: impl FnOnce(&Shared, &mut Hints)) {
    let generation = GENERATION.load(Ordering::Acquire);
    let mut f = Some(f);
    let _ = LOCAL.try_with(|local| {
        // A re-entrant emit (from a property's code) finds the cell borrowed and
        // takes the uncached path below.
        let Ok(mut local) = local.try_borrow_mut() else {
            return;
        };
        if local.0 != generation {
            *local = (generation, current(), Hints::NEW);
        }
        let (_, shared, hints) = &mut *local;
        if let (Some(shared), Some(f)) = (shared, f.take()) {
            f(shared, hints);
        }
    });
    // The thread is exiting and its cache is gone: read the pipeline directly.
    if let Some(f) = f.take()
        && let Some(shared) = current()
    {
        let mut hints = Hints::NEW;
        f(&shared, &mut hints);
    }
}

fn current() -> Option<Arc<Shared>> {
    PIPELINE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Hands the event of a finished `#[instrument_event]` call to the pipeline (or to the
/// innermost `testing::capture` on this thread); `ended` is the call's duration,
/// outcome and error kind.
pub(crate) fn emit_call(
    schema: &'static EventSchema,
    function: &'static &'static str,
    values: CallValues,
    ended: (Duration, Outcome, Option<ObservedKind>),
) {
    let state = STATE.load(Ordering::Relaxed);
    if state == 0 {
        return;
    }
    #[cfg(feature = "testing")]
    if state >= CAPTURE_UNIT && crate::testing::capturing() {
        let (duration, outcome, kind) = ended;
        let call = Call::new(
            *function,
            duration,
            outcome,
            kind.map(ObservedKind::into_string),
        );
        let values = values.into_owned();
        crate::testing::capture_event(pending(schema, values, Some(call)));
        return;
    }
    if state & RUNNING != 0 {
        with_pipeline(|shared, hints| shared.emit_call(hints, schema, function, values, ended));
    }
}

#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) fn add_capture_scope() {
    STATE.fetch_add(CAPTURE_UNIT, Ordering::Relaxed);
}

#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) fn remove_capture_scope() {
    STATE.fetch_sub(CAPTURE_UNIT, Ordering::Relaxed);
}

/// Counters of the current (or last) pipeline since `init`.
///
/// Every emitted event ends in exactly one of: `exported`, `failed` (a sink failed
/// its batch) or one of the `dropped_*` reasons (`dropped_rejected`: a sink named it
/// invalid). After shutdown, `emitted ==
/// exported + failed + dropped()` exactly, unless shutdown timed out: then
/// [`lost`](Stats::lost) is what was still queued or being written.
/// While the pipeline runs, the difference is what is on its way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Events handed to the pipeline.
    pub emitted: u64,
    /// Events dropped because the queue was full (in events or in bytes).
    pub dropped_queue_full: u64,
    /// Events every sink accepted.
    pub exported: u64,
    /// Events dropped because at least one sink failed to write their batch.
    pub failed: u64,
    /// Events dropped because the pipeline was shutting down when they were emitted, or
    /// because their event type was switched off
    /// ([`set_event_enabled`](crate::set_event_enabled)).
    pub dropped_disabled: u64,
    /// Events dropped by sampling.
    pub dropped_sampled_out: u64,
    /// Events dropped for lack of the user's consent.
    pub dropped_no_consent: u64,
    /// Bytes the sinks wrote (for sinks that count them: JSONL and stdout), including
    /// stats records.
    pub written_bytes: u64,
    /// Events dropped because a sink rejected them as invalid: too large for the
    /// vendor, or named invalid in its answer (see [`Delivery::rejected`]).
    pub dropped_rejected: u64,
    /// Requests the sinks sent again after a retryable error (a count of requests,
    /// not of events: not part of the conservation above).
    pub retried: u64,
}

impl Stats {
    /// Events dropped for any reason except a sink failure.
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full
            + self.dropped_disabled
            + self.dropped_sampled_out
            + self.dropped_no_consent
            + self.dropped_rejected
    }

    /// Emitted events not (yet) accounted for: in the queue or being written. Zero
    /// after a shutdown that finished in time; after a timeout, the events lost.
    pub fn lost(&self) -> u64 {
        self.emitted
            .saturating_sub(self.exported + self.failed + self.dropped())
    }
}

/// The counters of a pipeline. `emitted` is derived (events the writer took, plus
/// those queued, plus those dropped before the queue), so the emitting thread
/// increments nothing on its fast path.
fn snapshot(shared: &Shared) -> Stats {
    let c = &shared.counters;
    let received = c.writer.received.load(Ordering::Relaxed);
    let queued = shared.queue.len() as u64;
    let dropped_queue_full = c.caller.dropped_queue_full.load(Ordering::Relaxed);
    let dropped_disabled = c.caller.dropped_disabled.load(Ordering::Relaxed);
    let denied_at_emit = c.caller.dropped_no_consent.load(Ordering::Relaxed);
    Stats {
        emitted: received + queued + dropped_queue_full + dropped_disabled + denied_at_emit,
        dropped_queue_full,
        exported: c.writer.exported.load(Ordering::Relaxed),
        failed: c.writer.failed.load(Ordering::Relaxed),
        dropped_disabled,
        dropped_sampled_out: c.writer.dropped_sampled_out.load(Ordering::Relaxed),
        dropped_no_consent: c.writer.dropped_no_consent.load(Ordering::Relaxed) + denied_at_emit,
        written_bytes: c.writer.written_bytes.load(Ordering::Relaxed),
        dropped_rejected: c.writer.dropped_rejected.load(Ordering::Relaxed),
        retried: c.writer.retried.load(Ordering::Relaxed),
    }
}

/// Reads the counters of the running pipeline, or of the last one after it stopped
/// (all zero before the first `init`).
pub fn stats() -> Stats {
    if let Some(shared) = current() {
        return snapshot(&shared);
    }
    LAST.read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_deref()
        .map(snapshot)
        .unwrap_or_default()
}

/// Why [`try_init`] could not start the pipeline.
#[derive(Debug)]
#[non_exhaustive]
pub enum InitError {
    /// Another pipeline is running: keep one [`Guard`] for the whole program.
    AlreadyRunning,
    /// A JSONL file could not be opened.
    OpenFile {
        /// The file.
        path: PathBuf,
        /// The underlying error (its message names the path too).
        source: io::Error,
    },
    /// An event declares `pii = "hash"` but no secret key was configured.
    MissingPiiSecret {
        /// The event.
        event: String,
        /// The hashed property.
        property: String,
    },
    /// The user opted out with an environment variable (see [`OPT_OUT_ENV`]).
    /// [`init`] returns an inactive guard without printing anything.
    OptedOut {
        /// The variable that is set.
        variable: &'static str,
    },
    /// The writer thread could not be started.
    SpawnWriter(io::Error),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::AlreadyRunning => f.write_str(
                "telemetry is already running; call init once and keep its Guard until the program ends",
            ),
            InitError::OpenFile { source, .. } => write!(f, "{source}"),
            InitError::MissingPiiSecret { event, property } => write!(
                f,
                "event `{event}` hashes its property `{property}` (pii = \"hash\") but no secret key is configured; set Config::pii_secret or the {PII_SECRET_ENV} environment variable (telemetry will not hash personal data without a key)"
            ),
            InitError::OptedOut { variable } => write!(
                f,
                "telemetry is switched off by the {variable} environment variable"
            ),
            InitError::SpawnWriter(e) => write!(f, "cannot start the telemetry writer thread: {e}"),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InitError::OpenFile { source, .. } | InitError::SpawnWriter(source) => Some(source),
            _ => None,
        }
    }
}

/// Starts the pipeline; events emitted from now on are written to the configured sinks.
///
/// Telemetry must never take an application down: if the pipeline cannot start, the
/// reason is printed to standard error, telemetry stays off, and an inert guard is
/// returned. Use [`try_init`] to handle the error yourself.
pub fn init(config: Config) -> Guard {
    match try_init(config) {
        Ok(guard) => guard,
        // The user's choice, not a problem to report.
        Err(InitError::OptedOut { .. }) => Guard { writer: None },
        Err(e) => {
            eprintln!("telemetry disabled: {e}");
            Guard { writer: None }
        }
    }
}

/// Starts the pipeline, or says why it cannot.
///
/// `DO_NOT_TRACK` or `TELEMETRY_DISABLED` set in the environment (to anything but
/// empty, `0` or `false`) override the configuration: nothing starts, and the error is
/// [`InitError::OptedOut`].
pub fn try_init(config: Config) -> Result<Guard, InitError> {
    if let Some(variable) = opted_out() {
        return Err(InitError::OptedOut { variable });
    }
    // Hold the write lock for the whole start so two racing inits cannot both succeed.
    let mut slot = PIPELINE.write().unwrap_or_else(PoisonError::into_inner);
    if slot.is_some() {
        return Err(InitError::AlreadyRunning);
    }
    let secret = config
        .pii_secret
        .clone()
        .or_else(|| std::env::var_os(PII_SECRET_ENV).map(|s| s.into_encoded_bytes()))
        .filter(|s| !s.is_empty());
    if secret.is_none()
        && let Some((event, property)) = first_hashed_property()
    {
        return Err(InitError::MissingPiiSecret { event, property });
    }
    let mut sinks = config.sinks;
    let mut paths = config.jsonl_paths;
    if sinks.is_empty() && paths.is_empty() {
        paths.push(PathBuf::from(DEFAULT_JSONL_PATH));
    }
    for path in paths {
        let sink =
            JsonlSink::create(&path).map_err(|source| InitError::OpenFile { path, source })?;
        sinks.push(Box::new(sink));
    }
    let anonymous_id = match (config.anonymous_id, &config.anonymous_id_file) {
        (Some(id), _) => id,
        (None, Some(path)) => persisted_anonymous_id(path),
        (None, None) => random_id(),
    };
    // A session given in the config is the caller's to manage; a generated one
    // expires after the inactivity timeout.
    let session_timeout = config
        .session_timeout
        .filter(|_| config.session_id.is_none());
    let context = Context {
        app_name: config.app_name,
        app_version: config.app_version,
        anonymous_id: Some(anonymous_id),
        user_id: config.user_id,
        session_id: Some(config.session_id.unwrap_or_else(random_id)),
        os: std::env::consts::OS.to_owned(),
        arch: std::env::consts::ARCH.to_owned(),
        locale: config.locale.or_else(locale_from_env),
    };
    let essential = policy::Essential(config.essential_categories);
    let shared = Shared::new(
        config.queue_capacity,
        config.queue_bytes,
        essential,
        config.clock,
    );
    policy::init_consent(config.consent);
    let writer = worker::Writer::new(
        sinks,
        context,
        pii::PiiPolicy::new(secret.as_deref()),
        Arc::clone(&shared),
        worker::Options {
            stats_interval: config.stats_interval,
            undecided_limit: config.unknown_consent_buffer,
            session_timeout,
            sampling: policy::Sampling(config.sample_rates),
        },
    );
    // The writer says when it has finished (also if a sink panicked), so shutdown can
    // wait with a timeout without a second thread to join it.
    let (done_tx, done) = mpsc::sync_channel::<()>(1);
    let handle = std::thread::Builder::new()
        .name("telemetry-writer".into())
        .spawn(move || {
            struct Done(SyncSender<()>);
            impl Drop for Done {
                fn drop(&mut self) {
                    let _ = self.0.try_send(());
                }
            }
            let _done = Done(done_tx);
            writer.run();
        })
        .map_err(InitError::SpawnWriter)?;
    let _ = shared.writer.set(handle.thread().clone());
    *slot = Some(Arc::clone(&shared));
    GENERATION.fetch_add(1, Ordering::Release);
    STATE.fetch_or(RUNNING, Ordering::Release);
    Ok(Guard {
        writer: Some(WriterHandle {
            handle,
            done,
            shared,
            timeout: config.shutdown_timeout,
        }),
    })
}

/// The opt-out variable set in the environment, if any.
fn opted_out() -> Option<&'static str> {
    OPT_OUT_ENV.into_iter().find(|name| {
        std::env::var_os(name).is_some_and(|v| {
            let v = v.to_string_lossy();
            let v = v.trim();
            !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false"))
        })
    })
}

/// The anonymous id stored in `path`, or a new one stored there. A file that cannot
/// be written costs the persistence only (reported on stderr, without the id).
fn persisted_anonymous_id(path: &std::path::Path) -> String {
    if let Ok(text) = std::fs::read_to_string(path) {
        let id = text.trim();
        if !id.is_empty() && id.len() <= 128 && !id.contains(char::is_control) {
            return id.to_owned();
        }
    }
    let id = random_id();
    let written = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(path, format!("{id}\n")));
    if let Err(e) = written {
        eprintln!(
            "telemetry: cannot store the anonymous id in {}: {e} (a new one is generated at every start)",
            path.display()
        );
    }
    id
}

/// The locale from `LC_ALL`, `LC_MESSAGES` or `LANG` as a BCP 47 tag (`en_GB.UTF-8`
/// gives `en-GB`); none for `C` and `POSIX`.
fn locale_from_env() -> Option<String> {
    let value = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .into_iter()
        .filter_map(std::env::var_os)
        .find(|v| !v.is_empty())?;
    let value = value.to_string_lossy();
    let tag = value.split(['.', '@']).next().unwrap_or_default();
    let ok = !tag.is_empty()
        && tag != "C"
        && tag != "POSIX"
        && tag.len() <= 35
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    ok.then(|| tag.replace('_', "-"))
}

/// Wakes the writer of the running pipeline, if any (after a consent change).
fn wake_writer() {
    if let Some(shared) = current() {
        shared.wake();
    }
}

fn first_hashed_property() -> Option<(String, String)> {
    crate::catalog().events.iter().find_map(|e| {
        e.schema
            .properties
            .iter()
            .find(|p| p.pii == Pii::Hash)
            .map(|p| (e.schema.name.to_string(), p.name.to_string()))
    })
}

fn random_id() -> String {
    // Time-ordered and unique; does not identify the machine.
    uuid::Uuid::now_v7().to_string()
}

struct WriterHandle {
    handle: JoinHandle<()>,
    /// Receives `()` (or disconnects) when the writer thread ends.
    done: Receiver<()>,
    shared: Arc<Shared>,
    timeout: Duration,
}

/// Keeps the pipeline running; dropping it writes what is queued (waiting at most the
/// configured shutdown timeout) and stops the writer thread.
///
/// Keep it alive in `main` (`let _guard = telemetry_core::init(...)`; note the name:
/// `let _ = ...` would drop it at once). `std::process::exit` skips destructors: call
/// [`Guard::shutdown`] before it.
#[must_use = "dropping the guard stops telemetry; bind it with `let _guard = ...`"]
pub struct Guard {
    writer: Option<WriterHandle>,
}

impl Guard {
    /// Whether this guard started a pipeline (`false` when `init` failed).
    pub fn is_active(&self) -> bool {
        self.writer.is_some()
    }

    /// Stops the pipeline now, waiting at most `timeout` for queued events to be
    /// written. Returns `true` if everything was written in time; otherwise
    /// [`stats()`]`.lost()` says how many events were still queued or being written
    /// (a hung sink is left behind on its thread, never waited for).
    pub fn shutdown(mut self, timeout: Duration) -> bool {
        self.stop(timeout)
    }

    fn stop(&mut self, timeout: Duration) -> bool {
        let Some(writer) = self.writer.take() else {
            return true;
        };
        let deadline = Instant::now() + timeout;
        STATE.fetch_and(!RUNNING, Ordering::Release);
        PIPELINE
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        GENERATION.fetch_add(1, Ordering::Release);
        let WriterHandle {
            handle,
            done,
            shared,
            ..
        } = writer;
        *LAST.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&shared));
        // The writer drains what is queued, writes it and ends.
        shared.closed.store(true, Ordering::SeqCst);
        shared.sleeping.0.store(true, Ordering::SeqCst);
        shared.wake();
        match done.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                // The thread is at its very end: joining does not wait.
                let _ = handle.join();
                // An emitting thread that read the pipeline just before it closed may
                // have pushed after the writer's last pass: count those as dropped.
                let mut rx = shared.queue.consumer();
                while let Some(item) = rx.as_mut().and_then(|rx| rx.pop_settled()) {
                    if let Item::Event(event) = item {
                        shared.release(&event);
                        shared
                            .counters
                            .caller
                            .dropped_disabled
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
                true
            }
            // A sink hangs: leave the thread behind rather than hang the process.
            Err(RecvTimeoutError::Timeout) => false,
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let timeout = self.writer.as_ref().map_or(Duration::ZERO, |w| w.timeout);
        if !self.stop(timeout) {
            let lost = stats().lost();
            eprintln!(
                "telemetry: shutdown timed out after {timeout:?}; {lost} queued events were not written"
            );
        }
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("active", &self.is_active())
            .finish()
    }
}

/// Links the anonymous id to `user_id` after the user signs in: events emitted after
/// this call (outside a [`context::scope`]) carry `user_id`, and a record of type
/// `identify` (name [`IDENTIFY_RECORD_NAME`], no properties) whose context holds both
/// ids is written, so analysis can attribute the earlier anonymous events to the user.
///
/// Inside a scope, only the record is written (with the scope's anonymous id); the
/// scope's own ids are fixed: open a new scope with the user id for what follows. The
/// record follows consent like events (kept while consent is unknown, dropped when it
/// is denied; not counted in [`Stats`]). A no-op when telemetry is not
/// running. Not meant for hot paths: it allocates, and waits (up to a second) for room
/// when the queue is full.
pub fn identify(user_id: impl Into<String>) {
    let Some(shared) = current() else {
        return;
    };
    let mut item = Item::Control(Box::new(Control::Identify(Identify {
        user_id: user_id.into(),
        scope: context::current(),
        unix_millis: shared.clock.unix_millis(),
    })));
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match shared.queue.push(item) {
            Ok(()) => break,
            Err(back) => {
                if Instant::now() >= deadline || shared.closed.load(Ordering::Relaxed) {
                    return;
                }
                item = back;
                shared.wake();
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }
    shared.wake();
}

/// Waits until every event emitted before this call is written and the sinks are
/// flushed, or `timeout` passes. Returns `true` if done in time; `true` as well when
/// telemetry is not running.
pub fn flush(timeout: Duration) -> bool {
    let Some(shared) = current() else {
        return true;
    };
    let deadline = Instant::now() + timeout;
    let (ack_tx, ack_rx) = mpsc::sync_channel(1);
    // Flush is called by tests and CLIs, never on a hot path: wait for room.
    let mut item = Item::Control(Box::new(Control::Flush(ack_tx)));
    loop {
        match shared.queue.push(item) {
            Ok(()) => break,
            Err(back) => {
                if Instant::now() >= deadline || shared.closed.load(Ordering::Relaxed) {
                    return false;
                }
                item = back;
                shared.wake();
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }
    shared.wake();
    ack_rx
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .is_ok()
}

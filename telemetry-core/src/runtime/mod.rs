//! The pipeline behind `emit!`: a bounded queue and one background writer thread.
//!
//! The emitting thread reads the event's property values (borrowed, no formatting),
//! stamps an id and a timestamp, and hands the event to a bounded channel without
//! blocking; when the channel is full the event is dropped and counted. The writer
//! thread applies personal data handling, adds the context and writes batches to the
//! sinks. Before `init` (and after the guard is dropped) emitting costs one relaxed
//! atomic load.

mod config;
mod pii;
mod sink;
mod worker;

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

pub use config::{Config, DEFAULT_JSONL_PATH, PII_SECRET_ENV};
pub use pii::{HASH_BYTES, REDACTED};
pub use sink::{JsonlSink, MemorySink, Sink, StdoutSink};

use crate::event::TelemetryEvent;
use crate::record::{Call, Context, Timestamp};
use crate::schema::{EventSchema, Pii};
use crate::value::Value;

/// Bit 0: a pipeline is running. Bits 1..: number of active `testing::capture` scopes.
/// One relaxed load of this word is the whole cost of `emit!` when nothing listens.
static STATE: AtomicUsize = AtomicUsize::new(0);
const RUNNING: usize = 1;
pub(crate) const CAPTURE_UNIT: usize = 2;

static PIPELINE: RwLock<Option<Pipeline>> = RwLock::new(None);

struct Pipeline {
    tx: SyncSender<Message>,
    counters: Arc<Counters>,
}

/// Counters of the last pipeline, kept after it stops so `stats()` can still read
/// them. A writer that outlives a timed-out shutdown keeps counting into its own
/// pipeline's counters, never into the next pipeline's.
static LAST_COUNTERS: RwLock<Option<Arc<Counters>>> = RwLock::new(None);

/// An event on its way from the emitting thread to the writer.
pub(crate) struct PendingEvent {
    pub(crate) schema: &'static EventSchema,
    pub(crate) id: uuid::Uuid,
    pub(crate) timestamp: Timestamp,
    /// `(property index in the schema, value)` for every present property.
    pub(crate) values: Vec<(usize, Value)>,
    /// For `#[instrument_event]` calls: function, duration, outcome.
    pub(crate) call: Option<Call>,
}

pub(crate) enum Message {
    Event(PendingEvent),
    Flush(SyncSender<()>),
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
    let mut values = Vec::with_capacity(schema.properties.len());
    event.visit_properties(
        &mut |index: usize, value: crate::property::PropertyValue<'_>| {
            if let Some(v) = Value::from_property(value) {
                values.push((index, v));
            }
        },
    );
    let pending = PendingEvent {
        schema,
        id: uuid::Uuid::now_v7(),
        timestamp: Timestamp::now(),
        values,
        call: None,
    };
    dispatch(state, pending);
}

/// Hands the event of a finished `#[instrument_event]` call to the pipeline (or to the
/// innermost `testing::capture` on this thread).
pub(crate) fn emit_call(schema: &'static EventSchema, values: Vec<(usize, Value)>, call: Call) {
    let state = STATE.load(Ordering::Relaxed);
    if state == 0 {
        return;
    }
    let pending = PendingEvent {
        schema,
        id: uuid::Uuid::now_v7(),
        timestamp: Timestamp::now(),
        values,
        call: Some(call),
    };
    dispatch(state, pending);
}

fn dispatch(state: usize, pending: PendingEvent) {
    #[cfg(feature = "testing")]
    let pending = if state >= CAPTURE_UNIT {
        match crate::testing::capture_hook(pending) {
            Some(p) => p,
            None => return,
        }
    } else {
        pending
    };
    if state & RUNNING != 0 {
        send(pending);
    }
}

fn send(pending: PendingEvent) {
    let guard = PIPELINE.read().unwrap_or_else(PoisonError::into_inner);
    let Some(pipeline) = guard.as_ref() else {
        return;
    };
    let counters = &pipeline.counters;
    counters.emitted.fetch_add(1, Ordering::Relaxed);
    match pipeline.tx.try_send(Message::Event(pending)) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            counters.dropped_queue_full.fetch_add(1, Ordering::Relaxed);
        }
        Err(TrySendError::Disconnected(_)) => {
            counters.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

pub(crate) fn add_capture_scope() {
    STATE.fetch_add(CAPTURE_UNIT, Ordering::Relaxed);
}

pub(crate) fn remove_capture_scope() {
    STATE.fetch_sub(CAPTURE_UNIT, Ordering::Relaxed);
}

/// Counters of the current (or last) pipeline since `init`.
///
/// After the guard is dropped, `exported + dropped_queue_full + failed == emitted`
/// unless shutdown timed out (then the difference is what was still queued).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Events handed to the pipeline.
    pub emitted: u64,
    /// Events dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Events every sink accepted.
    pub exported: u64,
    /// Events at least one sink failed to write.
    pub failed: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) emitted: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) failed: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> Stats {
        Stats {
            emitted: self.emitted.load(Ordering::Relaxed),
            dropped_queue_full: self.dropped_queue_full.load(Ordering::Relaxed),
            exported: self.exported.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}

/// Reads the counters of the running pipeline, or of the last one after it stopped
/// (all zero before the first `init`).
pub fn stats() -> Stats {
    if let Some(p) = PIPELINE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
    {
        return p.counters.snapshot();
    }
    LAST_COUNTERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .map(|c| c.snapshot())
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
        Err(e) => {
            eprintln!("telemetry disabled: {e}");
            Guard { writer: None }
        }
    }
}

/// Starts the pipeline, or says why it cannot.
pub fn try_init(config: Config) -> Result<Guard, InitError> {
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
    let context = Context {
        app_name: config.app_name,
        app_version: config.app_version,
        anonymous_id: Some(config.anonymous_id.unwrap_or_else(random_id)),
        user_id: config.user_id,
        session_id: Some(config.session_id.unwrap_or_else(random_id)),
        os: std::env::consts::OS.to_owned(),
        arch: std::env::consts::ARCH.to_owned(),
    };
    let (tx, rx) = mpsc::sync_channel(config.queue_capacity);
    let counters = Arc::new(Counters::default());
    let writer = worker::Writer::new(
        sinks,
        context,
        pii::PiiPolicy::new(secret.as_deref()),
        Arc::clone(&counters),
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
            writer.run(rx);
        })
        .map_err(InitError::SpawnWriter)?;
    *slot = Some(Pipeline { tx, counters });
    STATE.fetch_or(RUNNING, Ordering::Release);
    Ok(Guard {
        writer: Some(WriterHandle {
            handle,
            done,
            timeout: config.shutdown_timeout,
        }),
    })
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
    /// written. Returns `true` if everything was written in time.
    pub fn shutdown(mut self, timeout: Duration) -> bool {
        self.stop(timeout)
    }

    fn stop(&mut self, timeout: Duration) -> bool {
        let Some(writer) = self.writer.take() else {
            return true;
        };
        STATE.fetch_and(!RUNNING, Ordering::Release);
        // Dropping the last sender ends the writer's loop once the queue is drained.
        let pipeline = PIPELINE
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(Pipeline { tx, counters }) = pipeline {
            drop(tx);
            *LAST_COUNTERS
                .write()
                .unwrap_or_else(PoisonError::into_inner) = Some(counters);
        }
        let WriterHandle { handle, done, .. } = writer;
        match done.recv_timeout(timeout) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                // The thread is at its very end: joining does not wait.
                let _ = handle.join();
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
            let s = stats();
            let lost = s
                .emitted
                .saturating_sub(s.exported + s.dropped_queue_full + s.failed);
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

/// Waits until every event emitted before this call is written and the sinks are
/// flushed, or `timeout` passes. Returns `true` if done in time; `true` as well when
/// telemetry is not running.
pub fn flush(timeout: Duration) -> bool {
    let tx = {
        let guard = PIPELINE.read().unwrap_or_else(PoisonError::into_inner);
        match guard.as_ref() {
            Some(p) => p.tx.clone(),
            None => return true,
        }
    };
    let (ack_tx, ack_rx) = mpsc::sync_channel(1);
    // A blocking send: flush is called by tests and CLIs, never on a hot path.
    if tx.send(Message::Flush(ack_tx)).is_err() {
        return true;
    }
    ack_rx.recv_timeout(timeout).is_ok()
}

//! Sinks: where records go. The JSONL file is the embedded default.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::record::Record;

/// A destination for records, driven by the background writer thread.
///
/// `write` receives records in emit order, in batches. Return an error to have the
/// batch counted as failed in [`Stats`](crate::Stats); the writer reports the first
/// error of each sink on standard error and keeps going. A sink that can deliver part
/// of a batch overrides [`send`](Sink::send) to say what became of each record.
pub trait Sink: Send + 'static {
    /// A short name for error messages, e.g. `jsonl:/var/log/app/events.jsonl`.
    fn name(&self) -> String;

    /// Writes a batch of records.
    fn write(&mut self, records: &[Record]) -> io::Result<()>;

    /// Delivers a batch of records and says what became of each of them: how many were
    /// exported, rejected (dropped as invalid or too large for the destination) or
    /// failed, and how many requests were retried on the way.
    ///
    /// The writer calls this, not [`write`](Sink::write). The default implementation
    /// calls `write`: `Ok` exports the whole batch, an error fails it. Sinks that can
    /// lose part of a batch (the HTTP exporters of [`export`](crate::export)) override
    /// it. The counts of the returned [`Delivery`] add up to `records.len()`; the
    /// writer counts anything missing as failed.
    fn send(&mut self, records: &[Record]) -> Delivery {
        Delivery::from_result(records.len(), self.write(records))
    }

    /// Makes everything written so far durable/visible. Called when the queue is idle,
    /// on `flush()` and on shutdown.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Bytes written so far, if the sink knows (counted in
    /// [`Stats::written_bytes`](crate::Stats)); 0 by default.
    fn bytes_written(&self) -> u64 {
        0
    }

    /// Whether this sink writes each record's JSON line unchanged, so the writer may
    /// hand it ready-made lines ([`write_json_lines`](Sink::write_json_lines)) and
    /// skip building [`Record`]s (several times faster). `false` by default.
    fn accepts_json_lines(&self) -> bool {
        false
    }

    /// Writes a batch of records already serialized as JSON lines, each ending in
    /// `\n`, in emit order. Called only when [`accepts_json_lines`](Sink::accepts_json_lines)
    /// returns `true` (and only if every sink of the pipeline does).
    fn write_json_lines(&mut self, lines: &[u8]) -> io::Result<()> {
        let _ = lines;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this sink does not accept JSON lines",
        ))
    }
}

/// What became of one batch handed to [`Sink::send`].
///
/// Every record of the batch is counted once: `exported + rejected + failed` is the
/// batch's size. `retried` counts requests sent again (after a timeout, a 429 or a
/// 5xx answer, ...), not events.
///
/// ```
/// use telemetry_core::Delivery;
///
/// let mut outcome = Delivery::exported(3);
/// outcome.merge(Delivery::rejected(1, "event too large"));
/// assert_eq!((outcome.exported, outcome.rejected, outcome.total()), (3, 1, 4));
/// assert!(outcome.into_result().is_err());
/// ```
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Delivery {
    /// Records the destination accepted.
    pub exported: u64,
    /// Records dropped as invalid: too large for the destination, or named invalid
    /// by it. Sending them again cannot succeed. Counted in
    /// [`Stats::dropped_rejected`](crate::Stats::dropped_rejected).
    pub rejected: u64,
    /// Records that could not be delivered: retries exhausted, the time budget spent,
    /// or an error that is not retried (bad credentials, a refused request, ...).
    /// Counted in [`Stats::failed`](crate::Stats::failed).
    pub failed: u64,
    /// Of `failed`, the records that can never succeed as sent: the destination
    /// refused the request itself (e.g. a 400 or a 413 it does not let split). The
    /// others (connection errors, timeouts, retries exhausted, 401/403 that a fixed
    /// key would cure) may succeed later; a sink that keeps records for a later
    /// attempt resends only those.
    pub permanent: u64,
    /// Requests sent again after a retryable error. Counted in
    /// [`Stats::retried`](crate::Stats::retried).
    pub retried: u64,
    /// The first problem met: the error that failed records, else the reason records
    /// were rejected. The writer prints the first one of each sink on standard error.
    pub error: Option<io::Error>,
}

impl Delivery {
    /// All `count` records exported.
    pub fn exported(count: usize) -> Delivery {
        Delivery {
            exported: count as u64,
            ..Delivery::default()
        }
    }

    /// All `count` records failed with `error`.
    pub fn failed(count: usize, error: io::Error) -> Delivery {
        Delivery {
            failed: count as u64,
            error: Some(error),
            ..Delivery::default()
        }
    }

    /// All `count` records failed with `error`, and can never succeed as sent (see
    /// [`permanent`](Delivery::permanent)).
    pub fn failed_permanently(count: usize, error: io::Error) -> Delivery {
        Delivery {
            failed: count as u64,
            permanent: count as u64,
            error: Some(error),
            ..Delivery::default()
        }
    }

    /// All `count` records rejected as invalid, for `reason`.
    pub fn rejected(count: usize, reason: impl Into<String>) -> Delivery {
        Delivery {
            rejected: count as u64,
            error: Some(io::Error::new(io::ErrorKind::InvalidData, reason.into())),
            ..Delivery::default()
        }
    }

    /// The outcome of a [`Sink::write`] of `count` records: all exported or all failed.
    pub fn from_result(count: usize, result: io::Result<()>) -> Delivery {
        match result {
            Ok(()) => Delivery::exported(count),
            Err(e) => Delivery::failed(count, e),
        }
    }

    /// Records counted: `exported + rejected + failed`.
    pub fn total(&self) -> u64 {
        self.exported + self.rejected + self.failed
    }

    /// Adds the outcome of another part of the same batch; the first error is kept.
    pub fn merge(&mut self, other: Delivery) {
        self.exported += other.exported;
        self.rejected += other.rejected;
        self.failed += other.failed;
        self.permanent += other.permanent;
        self.retried += other.retried;
        // A failure is worth more than a rejection in the report.
        let replace = match (&self.error, &other.error) {
            (None, Some(_)) => true,
            (Some(mine), Some(_)) => mine.kind() == io::ErrorKind::InvalidData && other.failed > 0,
            _ => false,
        };
        if replace {
            self.error = other.error;
        }
    }

    /// Makes the counts add up to `count`: records the sink did not account for are
    /// failed, and counts beyond `count` are trimmed, exported first (a sink that
    /// claims more than it was given is not trusted with its exports), then rejected,
    /// then failed.
    pub fn settle(&mut self, count: usize) {
        let count = count as u64;
        let mut excess = self.total().saturating_sub(count);
        for n in [&mut self.exported, &mut self.rejected, &mut self.failed] {
            let cut = excess.min(*n);
            *n -= cut;
            excess -= cut;
        }
        self.failed += count - self.total();
        self.permanent = self.permanent.min(self.failed);
    }

    /// `Ok` if every record was exported, else the first error (or a summary of the
    /// counts when the sink gave none).
    pub fn into_result(self) -> io::Result<()> {
        if self.rejected == 0 && self.failed == 0 {
            return Ok(());
        }
        let summary = format!(
            "{} exported, {} rejected as invalid, {} failed",
            self.exported, self.rejected, self.failed
        );
        Err(match self.error {
            Some(e) => io::Error::new(e.kind(), format!("{e} ({summary})")),
            None => io::Error::other(summary),
        })
    }
}

/// Serializes a batch as JSON lines into `buf` (cleared first).
fn encode_lines(records: &[Record], buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    for record in records {
        serde_json::to_writer(&mut *buf, record).map_err(io::Error::other)?;
        buf.push(b'\n');
    }
    Ok(())
}

/// Appends records to a file, one JSON object per line.
///
/// Each batch is encoded in memory and written with one `write_all`, so a record is
/// never split between two batches; the file is opened in append mode, so several
/// runs add to the same file.
#[derive(Debug)]
pub struct JsonlSink {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    written: u64,
}

impl JsonlSink {
    /// Opens (or creates, with its parent directories) `path` for appending.
    ///
    /// The error names the path and says what to check.
    pub fn create(path: impl AsRef<Path>) -> io::Result<JsonlSink> {
        let path = path.as_ref();
        let open = || -> io::Result<File> {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent)?;
            }
            OpenOptions::new().create(true).append(true).open(path)
        };
        let file = open().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot open the telemetry file `{}` for appending: {e}; check that its directory is writable or choose another path with Config::jsonl",
                    path.display()
                ),
            )
        })?;
        Ok(JsonlSink {
            path: path.to_owned(),
            file,
            buf: Vec::new(),
            written: 0,
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Sink for JsonlSink {
    fn name(&self) -> String {
        format!("jsonl:{}", self.path.display())
    }

    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        encode_lines(records, &mut self.buf)?;
        self.file.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        Ok(())
    }

    fn write_json_lines(&mut self, lines: &[u8]) -> io::Result<()> {
        self.file.write_all(lines)?;
        self.written += lines.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    fn bytes_written(&self) -> u64 {
        self.written
    }

    fn accepts_json_lines(&self) -> bool {
        true
    }
}

/// Writes records to standard output, one JSON object per line.
#[derive(Debug, Default)]
pub struct StdoutSink {
    buf: Vec<u8>,
    written: u64,
}

impl StdoutSink {
    /// A sink on the process's standard output.
    pub fn new() -> StdoutSink {
        StdoutSink::default()
    }
}

impl Sink for StdoutSink {
    fn name(&self) -> String {
        "stdout".into()
    }

    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        encode_lines(records, &mut self.buf)?;
        io::stdout().lock().write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        Ok(())
    }

    fn write_json_lines(&mut self, lines: &[u8]) -> io::Result<()> {
        io::stdout().lock().write_all(lines)?;
        self.written += lines.len() as u64;
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        self.written
    }

    fn accepts_json_lines(&self) -> bool {
        true
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().lock().flush()
    }
}

/// Keeps records in memory; clone it before handing it to the config to read them
/// back (all clones share the same records).
///
/// ```
/// let sink = telemetry_core::MemorySink::new();
/// let config = telemetry_core::Config::new("app", "1.0").sink(sink.clone());
/// # drop(config);
/// // ... init, emit, flush ...
/// assert!(sink.records().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    records: Arc<Mutex<Vec<Record>>>,
}

impl MemorySink {
    /// An empty in-memory sink.
    pub fn new() -> MemorySink {
        MemorySink::default()
    }

    /// A copy of every record written so far.
    pub fn records(&self) -> Vec<Record> {
        self.lock().clone()
    }

    /// Removes and returns every record written so far.
    pub fn take(&self) -> Vec<Record> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Record>> {
        // A panic while holding the lock cannot leave the Vec half-updated.
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Sink for MemorySink {
    fn name(&self) -> String {
        "memory".into()
    }

    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        self.lock().extend_from_slice(records);
        Ok(())
    }
}

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
/// error of each sink on standard error and keeps going.
pub trait Sink: Send + 'static {
    /// A short name for error messages, e.g. `jsonl:/var/log/app/events.jsonl`.
    fn name(&self) -> String;

    /// Writes a batch of records.
    fn write(&mut self, records: &[Record]) -> io::Result<()>;

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

//! An on-disk spool in front of any sink: batches are written to segment files first,
//! then delivered through the inner sink, and what the inner sink could not take yet is
//! sent again later — on a later batch, or after a restart.
//!
//! # On disk
//!
//! The spool directory holds:
//!
//! - `segment-<20-digit sequence>.spool`: append-only segment files. Each starts with
//!   the 8-byte magic `TSPOOL1\n`, then entries: a little-endian `u32` payload length,
//!   a little-endian `u32` CRC-32 (IEEE) of the payload, then the payload, the batch as
//!   JSON lines (the [record format](crate::Record)). A new segment is started when the
//!   current one reaches [`Spool::segment_bytes`], and on every start (a segment written
//!   by a process that died is never appended to).
//! - `ack`: the position up to which the inner sink has taken everything, as
//!   `<sequence> <byte offset>` (replaced atomically: written to `ack.tmp`, renamed).
//!   Segments wholly before it are deleted.
//! - `lock`: locked while a spool is open, so two processes never share a directory.
//!
//! A segment that ends inside an entry (the process died while writing it: a torn
//! tail) or an entry whose checksum does not match (a damaged disk, a foreign file) is
//! reported on standard error, naming the file and offset, and the rest of that segment
//! is skipped (an entry's length cannot be trusted after damage); later segments are
//! read as usual. Nothing panics.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::record::Record;
use crate::runtime::{Delivery, Sink};

/// First bytes of every segment file.
const MAGIC: &[u8; 8] = b"TSPOOL1\n";
/// Bytes before each entry's payload: length and checksum.
const ENTRY_HEADER: u64 = 8;

/// How long one batch may spend sending older stored batches before its call returns
/// (the rest is sent on the next batches, or on `flush`).
const DRAIN_BUDGET: Duration = Duration::from_secs(1);

/// Default of [`Spool::max_bytes`]: 256 MiB.
pub const DEFAULT_SPOOL_MAX_BYTES: u64 = 256 << 20;
/// Default of [`Spool::segment_bytes`]: 8 MiB.
pub const DEFAULT_SPOOL_SEGMENT_BYTES: u64 = 8 << 20;
/// Default first wait of [`Spool::retry_interval`] after the inner sink failed.
pub const DEFAULT_SPOOL_RETRY_MIN: Duration = Duration::from_secs(1);
/// Default longest wait of [`Spool::retry_interval`].
pub const DEFAULT_SPOOL_RETRY_MAX: Duration = Duration::from_secs(60);

/// CRC-32 (IEEE 802.3, reflected, the one of zlib and PNG), table-driven.
fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &byte in data {
        crc = TABLE[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// What a [`Spool`] has done since it was opened, and what it holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpoolStats {
    /// Records waiting in the spool for the inner sink.
    pub pending: u64,
    /// Bytes of the segment files on disk.
    pub bytes: u64,
    /// Records found in the spool when it was opened (left by an earlier run).
    pub recovered: u64,
    /// Records the inner sink exported.
    pub delivered: u64,
    /// Records the inner sink rejected as invalid (never sent again).
    pub rejected: u64,
    /// Records dropped from the spool because the inner sink failed them in a way that
    /// sending again cannot fix ([`Delivery::permanent`]).
    pub failed_permanently: u64,
    /// Records refused because the spool was full ([`Spool::max_bytes`]).
    pub refused_full: u64,
    /// Damaged or torn entries skipped (each reported on standard error).
    pub skipped_entries: u64,
    /// Requests the inner sink retried.
    pub retried: u64,
}

/// A cloneable view of a [`Spool`]'s [`SpoolStats`], readable from any thread while
/// the spool runs on the writer thread.
#[derive(Debug, Clone, Default)]
pub struct SpoolMonitor(Arc<Mutex<SpoolStats>>);

impl SpoolMonitor {
    /// The current counters.
    pub fn stats(&self) -> SpoolStats {
        *self.lock()
    }

    fn lock(&self) -> MutexGuard<'_, SpoolStats> {
        // Plain counters: a panic while holding the lock leaves them consistent enough.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One segment file.
#[derive(Debug)]
struct Segment {
    seq: u64,
    path: PathBuf,
    /// Size on disk.
    len: u64,
}

/// An unacknowledged entry found on disk or just written.
#[derive(Debug, Clone, Copy)]
struct Entry {
    seq: u64,
    /// Offset of the entry header in its segment.
    offset: u64,
    /// Payload length.
    len: u32,
    /// Records in the payload.
    records: u64,
}

/// A [`Sink`] that writes each batch to disk before handing it to an inner sink, so
/// that events survive an unreachable endpoint, a crash or a restart (at-least-once
/// delivery: a batch whose delivery was not recorded before a crash is sent again, and
/// the destination de-duplicates by the record's `id`).
///
/// ```no_run
/// use telemetry_core::export::Spool;
///
/// # fn main() -> std::io::Result<()> {
/// let inner = telemetry_core::JsonlSink::create("/mnt/share/events.jsonl")?;
/// let spool = Spool::new("/var/lib/my-app/telemetry-spool", inner)?.max_bytes(64 << 20);
/// let _guard = telemetry_core::init(telemetry_core::Config::new("app", "1.0").sink(spool));
/// # Ok(())
/// # }
/// ```
///
/// # Order and retries
///
/// Every batch is appended to the spool, then the spool sends what it holds, oldest
/// first, one stored batch per [`Sink::send`] of the inner sink. When the inner sink
/// fails a batch (retries exhausted, endpoint down), that batch and everything after
/// it stay on disk and the spool waits before trying again ([`Spool::retry_interval`]:
/// doubling from 1 s to 60 s by default), on a later batch or on
/// [`flush`](Sink::flush) (which the pipeline calls when idle and at shutdown). A
/// partly delivered batch is sent again whole: the destination drops the copies by id.
/// A long backlog (after an outage or a restart) is sent about one second's worth per
/// new batch and about three seconds' worth per [`flush`](Sink::flush) (when the
/// pipeline is idle, and at shutdown), so the writer keeps taking new events and
/// shutdown stays prompt; [`drain`](Spool::drain) sends everything.
/// Records the inner sink rejects as invalid, and batches whose every failure can never
/// succeed as sent ([`Delivery::permanent`]: a 400, a 413 that cannot be split, ...),
/// are removed from the spool and counted ([`SpoolStats`]), so one bad batch cannot
/// block the rest. Connection errors, timeouts, exhausted retries and refused
/// credentials (401/403: a fixed key delivers them) keep the batch.
///
/// # Size bound
///
/// The segment files never exceed [`max_bytes`](Spool::max_bytes) in total. When a
/// batch does not fit, the spool first tries to deliver (freeing space); if it still
/// does not fit, the **new** batch is refused (counted as failed and in
/// [`SpoolStats::refused_full`]) and what the spool holds is kept: the records already
/// accepted are never dropped to make room, as with the `drop_newest` policy of
/// Vector's disk buffers.
///
/// # Accounting
///
/// The spool's [`Delivery`] for a batch, which the pipeline counts in
/// [`Stats`](crate::Stats), says what became of the batch in this call:
///
/// - delivered now: the inner sink's own counts (`exported`, `rejected`);
/// - **parked** (written to disk, not delivered yet): `exported`, as for the JSONL
///   sink: the records are durably stored and will be delivered at least once unless
///   the destination rejects them or the directory is deleted. What happens to them
///   later is in [`SpoolStats`] ([`monitor`](Spool::monitor)), and the spool says on
///   standard error when it starts parking and when it delivers again;
/// - refused (spool full, disk error) and not delivered either: `failed`.
///
/// `retried` adds up the inner sink's retried requests.
///
/// # Durability
///
/// Batches are written with one `write` call each: they survive the process being
/// killed. Call [`fsync`](Spool::fsync) to also survive a power loss (one `fdatasync`
/// per batch, and of the directory when a segment is created or the `ack` file
/// replaced).
pub struct Spool<S> {
    dir: PathBuf,
    inner: S,
    /// Held (locked) while the spool is open.
    _lock: File,
    segments: VecDeque<Segment>,
    /// The segment being appended to (the last of `segments`), opened lazily.
    writer: Option<File>,
    /// Unacknowledged entries, oldest first.
    entries: VecDeque<Entry>,
    max_bytes: u64,
    segment_bytes: u64,
    fsync: bool,
    /// Sequence number of the next segment.
    next_seq: u64,
    retry_min: Duration,
    retry_max: Duration,
    /// The current wait after a failure, and when the next attempt may be made.
    backoff: Duration,
    next_attempt: Option<Instant>,
    monitor: SpoolMonitor,
    /// Whether the spool is parking records (reported once per outage).
    parking: bool,
    buf: Vec<u8>,
}

impl<S> std::fmt::Debug for Spool<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("dir", &self.dir)
            .field("stats", &self.monitor.stats())
            .finish_non_exhaustive()
    }
}

/// Makes a directory's entries (created, renamed files) durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("segment-{seq:020}.spool"))
}

fn context(path: &Path, what: &str, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!(
            "spool `{}`: cannot {what}: {e}; check that the directory is writable and the disk not full",
            path.display()
        ),
    )
}

impl<S: Sink> Spool<S> {
    /// Opens (or creates) the spool directory `dir` in front of `inner`.
    ///
    /// Records left by an earlier run are found and sent first, on the first batch or
    /// flush. Damaged entries are reported on standard error and skipped.
    ///
    /// # Errors
    ///
    /// The directory cannot be created or read, or another process has it open.
    pub fn new(dir: impl Into<PathBuf>, inner: S) -> io::Result<Spool<S>> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| context(&dir, "create the directory", e))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| context(&lock_path, "create the lock file", e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!(
                        "spool `{}` is in use by another process; give each process its own spool directory",
                        dir.display()
                    ),
                ));
            }
            Err(fs::TryLockError::Error(e)) => return Err(context(&lock_path, "lock", e)),
        }
        let mut spool = Spool {
            dir,
            inner,
            _lock: lock,
            segments: VecDeque::new(),
            writer: None,
            entries: VecDeque::new(),
            max_bytes: DEFAULT_SPOOL_MAX_BYTES,
            segment_bytes: DEFAULT_SPOOL_SEGMENT_BYTES,
            fsync: false,
            next_seq: 0,
            retry_min: DEFAULT_SPOOL_RETRY_MIN,
            retry_max: DEFAULT_SPOOL_RETRY_MAX,
            backoff: DEFAULT_SPOOL_RETRY_MIN,
            next_attempt: None,
            monitor: SpoolMonitor::default(),
            parking: false,
            buf: Vec::new(),
        };
        spool.recover()?;
        Ok(spool)
    }

    /// The most bytes the segment files may take on disk (default
    /// [`DEFAULT_SPOOL_MAX_BYTES`]); batches beyond it are refused (see the type's docs).
    pub fn max_bytes(mut self, bytes: u64) -> Spool<S> {
        self.max_bytes = bytes;
        self
    }

    /// Size at which a new segment file is started (default
    /// [`DEFAULT_SPOOL_SEGMENT_BYTES`]; no more than a quarter of
    /// [`max_bytes`](Spool::max_bytes), or 4 KiB if that is more, is used). Disk space
    /// is given back a whole segment at a time, once everything in it was delivered.
    pub fn segment_bytes(mut self, bytes: u64) -> Spool<S> {
        self.segment_bytes = bytes.max(MAGIC.len() as u64 + 1);
        self
    }

    /// Calls `fdatasync` after each batch written, so that stored batches also survive
    /// a power loss (default: off; a killed process loses nothing either way).
    pub fn fsync(mut self, on: bool) -> Spool<S> {
        self.fsync = on;
        self
    }

    /// After the inner sink fails, the spool waits `min` before the next attempt, then
    /// twice as long after each further failure, up to `max` (defaults 1 s and 60 s).
    /// Batches keep being stored meanwhile.
    pub fn retry_interval(mut self, min: Duration, max: Duration) -> Spool<S> {
        self.retry_min = min;
        self.retry_max = max.max(min);
        self.backoff = min;
        self
    }

    /// A handle on the spool's counters, to read them while the pipeline runs.
    pub fn monitor(&self) -> SpoolMonitor {
        self.monitor.clone()
    }

    /// The spool's counters.
    pub fn stats(&self) -> SpoolStats {
        self.monitor.stats()
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The inner sink.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Sends what the spool holds through the inner sink now, ignoring the retry wait;
    /// stops at the first batch the inner sink fails. Returns the records still pending.
    pub fn drain(&mut self) -> u64 {
        self.next_attempt = None;
        self.deliver_pending(None, None);
        self.monitor.stats().pending
    }

    fn stats_mut(&self) -> MutexGuard<'_, SpoolStats> {
        self.monitor.lock()
    }

    /// The segment size in use: [`Spool::segment_bytes`] within the bounds it names.
    fn segment_limit(&self) -> u64 {
        self.segment_bytes.min((self.max_bytes / 4).max(4096))
    }

    fn total_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.len).sum()
    }

    fn update_gauges(&self) {
        let pending = self.entries.iter().map(|e| e.records).sum();
        let bytes = self.total_bytes();
        let mut stats = self.stats_mut();
        stats.pending = pending;
        stats.bytes = bytes;
    }

    /// Reads the directory: segments, the ack position, and every entry after it.
    fn recover(&mut self) -> io::Result<()> {
        let mut seqs = Vec::new();
        let read = fs::read_dir(&self.dir).map_err(|e| context(&self.dir, "read", e))?;
        for item in read {
            let item = item.map_err(|e| context(&self.dir, "read", e))?;
            let name = item.file_name();
            let Some(seq) = name
                .to_str()
                .and_then(|n| n.strip_prefix("segment-"))
                .and_then(|n| n.strip_suffix(".spool"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            seqs.push(seq);
        }
        seqs.sort_unstable();
        let (ack_seq, ack_offset) = self.read_ack();
        self.next_seq = seqs.last().map_or(0, |s| s + 1).max(ack_seq + 1);
        for seq in seqs {
            let path = segment_path(&self.dir, seq);
            if seq < ack_seq {
                // Delivered before the last stop; its deletion was interrupted.
                let _ = fs::remove_file(&path);
                continue;
            }
            let from = if seq == ack_seq { ack_offset } else { 0 };
            let before = self.entries.len();
            let len = self.scan_segment(seq, &path, from)?;
            if seq == ack_seq && self.entries.len() == before && from >= len {
                // Wholly delivered before the last stop.
                let _ = fs::remove_file(&path);
                continue;
            }
            self.segments.push_back(Segment { seq, path, len });
        }
        let recovered = self.entries.iter().map(|e| e.records).sum();
        self.stats_mut().recovered = recovered;
        self.update_gauges();
        Ok(())
    }

    /// The `ack` file's position; `(0, 0)` when there is none or it is unreadable.
    fn read_ack(&self) -> (u64, u64) {
        let path = self.dir.join("ack");
        let Ok(text) = fs::read_to_string(&path) else {
            return (0, 0);
        };
        let mut parts = text.split_whitespace().map(str::parse::<u64>);
        match (parts.next(), parts.next()) {
            (Some(Ok(seq)), Some(Ok(offset))) => (seq, offset),
            _ => {
                eprintln!(
                    "telemetry: spool `{}` is damaged ({:?}); every stored batch will be sent again (the destination drops the copies by id)",
                    path.display(),
                    text.chars().take(40).collect::<String>()
                );
                (0, 0)
            }
        }
    }

    /// Indexes the entries of one segment from `from`, verifying each checksum.
    /// Returns the segment's length on disk.
    fn scan_segment(&mut self, seq: u64, path: &Path, from: u64) -> io::Result<u64> {
        let mut data = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut data))
            .map_err(|e| context(path, "read the segment", e))?;
        let len = data.len() as u64;
        if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
            if !data.is_empty() {
                self.report_skip(path, 0, "it does not start like a spool segment");
            }
            return Ok(len);
        }
        let mut offset = from.max(MAGIC.len() as u64);
        while offset < len {
            let at = offset as usize;
            let Some(header) = data.get(at..at + ENTRY_HEADER as usize) else {
                self.report_skip(
                    path,
                    offset,
                    "the last entry is incomplete (the process stopped while writing it)",
                );
                break;
            };
            let size = u32::from_le_bytes(header[..4].try_into().expect("4 bytes"));
            let sum = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
            let start = at + ENTRY_HEADER as usize;
            let Some(payload) = data.get(start..start + size as usize) else {
                self.report_skip(
                    path,
                    offset,
                    "the last entry is incomplete (the process stopped while writing it)",
                );
                break;
            };
            if crc32(payload) != sum {
                self.report_skip(
                    path,
                    offset,
                    "the entry's checksum does not match (damaged data); the rest of this segment is skipped",
                );
                break;
            }
            let records = payload.iter().filter(|&&b| b == b'\n').count() as u64;
            self.entries.push_back(Entry {
                seq,
                offset,
                len: size,
                records,
            });
            offset += ENTRY_HEADER + u64::from(size);
        }
        Ok(len)
    }

    fn report_skip(&self, path: &Path, offset: u64, why: &str) {
        eprintln!(
            "telemetry: spool segment `{}`, byte {offset}: {why}; skipped",
            path.display()
        );
        self.stats_mut().skipped_entries += 1;
    }

    /// Appends one batch as an entry. `Ok(false)` if it does not fit in `max_bytes`.
    fn append(&mut self, records: &[Record]) -> io::Result<bool> {
        self.buf.clear();
        self.buf.extend_from_slice(&[0; ENTRY_HEADER as usize]);
        for record in records {
            serde_json::to_writer(&mut self.buf, record).map_err(io::Error::other)?;
            self.buf.push(b'\n');
        }
        let payload_len = self.buf.len() - ENTRY_HEADER as usize;
        let size = u32::try_from(payload_len).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a batch of more than 4 GiB cannot be spooled",
            )
        })?;
        let sum = crc32(&self.buf[ENTRY_HEADER as usize..]);
        self.buf[..4].copy_from_slice(&size.to_le_bytes());
        self.buf[4..8].copy_from_slice(&sum.to_le_bytes());
        let entry_bytes = self.buf.len() as u64;

        let roll = match (&self.writer, self.segments.back()) {
            // A segment holding entries is full; an empty one takes any entry.
            (Some(_), Some(last)) => {
                last.len > MAGIC.len() as u64 && last.len + entry_bytes > self.segment_limit()
            }
            _ => true,
        };
        let new_segment_bytes = if roll { MAGIC.len() as u64 } else { 0 };
        if self.total_bytes() + new_segment_bytes + entry_bytes > self.max_bytes {
            return Ok(false);
        }
        if roll {
            self.start_segment()?;
        }
        let segment = self
            .segments
            .back_mut()
            .expect("a segment was just started");
        let file = self.writer.as_mut().expect("a segment is open");
        let offset = segment.len;
        if let Err(e) = file.write_all(&self.buf) {
            // A partial write leaves a torn entry: start a new segment for the next one.
            self.writer = None;
            if let Ok(meta) = fs::metadata(&segment.path) {
                segment.len = meta.len();
            }
            return Err(context(&segment.path, "write", e));
        }
        if self.fsync {
            file.sync_data()
                .map_err(|e| context(&segment.path, "sync", e))?;
        }
        segment.len += entry_bytes;
        self.entries.push_back(Entry {
            seq: segment.seq,
            offset,
            len: size,
            records: records.len() as u64,
        });
        Ok(true)
    }

    fn start_segment(&mut self) -> io::Result<()> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let path = segment_path(&self.dir, seq);
        let mut file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(|e| context(&path, "create a segment", e))?;
        file.write_all(MAGIC)
            .map_err(|e| context(&path, "write", e))?;
        if self.fsync {
            // The new file's directory entry must be durable too.
            sync_dir(&self.dir).map_err(|e| context(&self.dir, "sync", e))?;
        }
        self.segments.push_back(Segment {
            seq,
            path,
            len: MAGIC.len() as u64,
        });
        self.writer = Some(file);
        Ok(())
    }

    /// Reads the records of a stored entry. `None` (reported) if it cannot be read back.
    fn load(&mut self, entry: Entry) -> Option<Vec<Record>> {
        let path = segment_path(&self.dir, entry.seq);
        let mut payload = vec![0; entry.len as usize];
        let read = File::open(&path).and_then(|mut f| {
            f.seek(SeekFrom::Start(entry.offset + ENTRY_HEADER))?;
            f.read_exact(&mut payload)
        });
        if let Err(e) = read {
            self.report_skip(&path, entry.offset, &format!("cannot be read back ({e})"));
            return None;
        }
        let mut records = Vec::with_capacity(entry.records as usize);
        for line in payload.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match std::str::from_utf8(line)
                .map_err(|e| e.to_string())
                .and_then(|l| Record::from_json(l).map_err(|e| e.to_string()))
            {
                Ok(record) => records.push(record),
                Err(e) => {
                    self.report_skip(
                        &path,
                        entry.offset,
                        &format!("a stored record is not in the record format ({e})"),
                    );
                }
            }
        }
        Some(records)
    }

    /// Marks the oldest entry delivered (or dropped): moves the ack position past it,
    /// and deletes the segments left wholly behind.
    fn acknowledge(&mut self) {
        let Some(done) = self.entries.pop_front() else {
            return;
        };
        let (seq, offset) = match self.entries.front() {
            Some(next) => (next.seq, next.offset),
            None => (done.seq, done.offset + ENTRY_HEADER + u64::from(done.len)),
        };
        let ack = self.dir.join("ack");
        let tmp = self.dir.join("ack.tmp");
        let written = fs::write(&tmp, format!("{seq} {offset}\n")).and_then(|()| {
            if self.fsync {
                File::open(&tmp)?.sync_all()?;
            }
            fs::rename(&tmp, &ack)?;
            if self.fsync {
                sync_dir(&self.dir)?;
            }
            Ok(())
        });
        if let Err(e) = written {
            // The batch is delivered; at worst it is sent again after a restart.
            eprintln!(
                "telemetry: spool `{}`: cannot record delivered batches ({e}); they may be sent again after a restart",
                ack.display()
            );
        }
        // Segments before the ack position, except the one being appended to.
        while self.segments.len() > 1 && self.segments[0].seq < seq {
            let segment = self.segments.pop_front().expect("len > 1");
            let _ = fs::remove_file(&segment.path);
        }
        if self.entries.is_empty() {
            // Everything stored is delivered: give the space back, including the
            // segment being appended to (the next batch starts a new one).
            self.writer = None;
            while let Some(segment) = self.segments.pop_front() {
                let _ = fs::remove_file(&segment.path);
            }
        }
    }

    /// Whether an attempt to deliver is allowed now (the retry wait has passed).
    fn due(&self) -> bool {
        self.next_attempt.is_none_or(|t| Instant::now() >= t)
    }

    /// Sends stored entries, oldest first, until none is left or the inner sink fails
    /// one, or `deadline` passes. Returns the inner sink's outcome for the entry at
    /// `watch` (the batch of the current call) if it was delivered or dropped in this
    /// call.
    fn deliver_pending(
        &mut self,
        watch: Option<((u64, u64), &[Record])>,
        deadline: Option<Instant>,
    ) -> Option<Delivery> {
        let mut watched = None;
        while let Some(&entry) = self.entries.front() {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let current = watch.filter(|(at, _)| *at == (entry.seq, entry.offset));
            let loaded;
            let records = match current {
                // The batch of this call: no need to read it back.
                Some((_, records)) => records,
                None => match self.load(entry) {
                    Some(records) => {
                        loaded = records;
                        &loaded[..]
                    }
                    None => {
                        self.acknowledge();
                        continue;
                    }
                },
            };
            let mut outcome = self.inner.send(records);
            outcome.settle(records.len());
            self.stats_mut().retried += outcome.retried;
            // Kept while any record failed in a way a later attempt may cure; once
            // only failures that can never succeed remain, the batch is dropped.
            if outcome.failed > outcome.permanent {
                let error = outcome
                    .error
                    .as_ref()
                    .map_or_else(|| "unknown error".to_owned(), ToString::to_string);
                self.backoff_after_failure(&error);
                break;
            }
            {
                let mut stats = self.stats_mut();
                stats.delivered += outcome.exported;
                stats.rejected += outcome.rejected;
                stats.failed_permanently += outcome.failed;
            }
            if outcome.failed > 0 {
                eprintln!(
                    "telemetry: spool `{}`: {} records dropped: the destination refused them and sending them again cannot succeed ({})",
                    self.dir.display(),
                    outcome.failed,
                    outcome
                        .error
                        .as_ref()
                        .map_or_else(String::new, ToString::to_string)
                );
            }
            if self.parking {
                self.parking = false;
                eprintln!(
                    "telemetry: spool `{}`: delivering again",
                    self.dir.display()
                );
            }
            self.backoff = self.retry_min;
            self.next_attempt = None;
            self.acknowledge();
            if current.is_some() {
                watched = Some(outcome);
            }
        }
        self.update_gauges();
        watched
    }

    fn backoff_after_failure(&mut self, error: &str) {
        self.next_attempt = Some(Instant::now() + self.backoff);
        if !self.parking {
            self.parking = true;
            eprintln!(
                "telemetry: spool `{}`: {} failed ({error}); keeping the events on disk and trying again in {:?}",
                self.dir.display(),
                self.inner.name(),
                self.backoff
            );
        }
        self.backoff = (self.backoff * 2).min(self.retry_max);
    }
}

impl<S: Sink> Sink for Spool<S> {
    fn name(&self) -> String {
        format!("spool:{} -> {}", self.dir.display(), self.inner.name())
    }

    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        self.send(records).into_result()
    }

    fn send(&mut self, records: &[Record]) -> Delivery {
        if records.is_empty() {
            return Delivery::exported(0);
        }
        let mut appended = self.append(records);
        if matches!(appended, Ok(false)) && self.due() {
            // Full: delivering frees space, then try again.
            self.deliver_pending(None, None);
            appended = self.append(records);
        }
        match appended {
            Ok(true) => {
                let stored = self.entries.back().map(|e| ((e.seq, e.offset), records));
                let retried_before = self.stats().retried;
                let mut delivery = if self.due() {
                    // A long backlog is sent a slice per batch, so that the
                    // pipeline's queue keeps draining.
                    self.deliver_pending(stored, Some(Instant::now() + DRAIN_BUDGET))
                } else {
                    None
                }
                // Parked: stored durably, delivered later (see "Accounting").
                .unwrap_or_else(|| Delivery::exported(records.len()));
                self.update_gauges();
                // Retries of older batches count too: they are requests this call made.
                delivery.retried = self.stats().retried - retried_before;
                delivery
            }
            Ok(false) => {
                self.stats_mut().refused_full += records.len() as u64;
                Delivery::failed(
                    records.len(),
                    io::Error::new(
                        io::ErrorKind::StorageFull,
                        format!(
                            "spool `{}` is full ({} bytes, Spool::max_bytes) and the destination is not taking events; batch refused",
                            self.dir.display(),
                            self.max_bytes
                        ),
                    ),
                )
            }
            Err(e) => {
                // Not stored: hand the batch straight to the inner sink, after what is
                // already waiting (which keeps its order).
                if self.due() {
                    self.deliver_pending(None, None);
                }
                if self.entries.is_empty() {
                    let mut outcome = self.inner.send(records);
                    outcome.settle(records.len());
                    outcome
                } else {
                    Delivery::failed(records.len(), e)
                }
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.due() && !self.entries.is_empty() {
            // Called when the pipeline is idle and at shutdown: a larger slice, still
            // bounded, so that shutdown stays prompt; the rest waits on disk.
            self.deliver_pending(None, Some(Instant::now() + 3 * DRAIN_BUDGET));
        }
        self.inner.flush()
    }

    fn bytes_written(&self) -> u64 {
        self.inner.bytes_written()
    }
}

impl<S> Drop for Spool<S> {
    fn drop(&mut self) {
        let pending = self.monitor.stats().pending;
        if pending > 0 {
            eprintln!(
                "telemetry: {pending} events wait in the spool `{}`; they are sent on the next start",
                self.dir.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::crc32;

    #[test]
    fn crc32_is_the_ieee_one() {
        // The check value of CRC-32/ISO-HDLC (zlib, PNG, gzip).
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }
}

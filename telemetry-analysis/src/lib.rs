//! Product metrics computed from telemetry records (the JSONL lines written by
//! `telemetry-core`): active users, retention and churn, funnels, and the reliability
//! of instrumented functions. The `telemetry report` command is a thin layer on top.
//!
//! Records are read one at a time ([`Analyzer::add_line`]); memory grows with the
//! number of distinct users times the days they were active (plus, for funnels, the
//! funnel-step events of each user, repeats of a step collapsed), not with the number
//! of records. Days are UTC unless [`Options::time_zone`] says otherwise. A user is
//! `context.user_id`, or `context.anonymous_id` when there is none; an anonymous id
//! seen in a record (or an `identify` record) together with a user id is that user,
//! also in its records without the user id (the same person before signing in; the
//! first user id seen with it wins). Malformed lines,
//! unknown events and records without any id are counted and reported with their
//! first locations ([`Input`]), never fatal. [`source`] reads plain, gzip and zstd
//! files and directories of rotated files.
//!
//! **Sampled records** (`sample_rate` below 1) stand for `1 / sample_rate` events, and
//! every count is scaled accordingly (rounded to whole numbers; [`Input::sampled`]
//! says when that happened). Sampling keeps or drops whole users (the decision hashes
//! the user's id), so a kept user stands for `1 / r` users: each user is weighted by
//! the inverse of the highest rate among the records a metric uses (the active events
//! for active users, retention and churn; the funnel's steps for a funnel). Rates are
//! shares of users, so ratios (conversion, retention, error rates) are unbiased
//! estimates; percentiles of latency are read from the kept calls.
//!
//! ```
//! use telemetry_analysis::{Analyzer, Options};
//!
//! let mut analyzer = Analyzer::new(Options::default());
//! analyzer.add_line(r#"{"format":1,"type":"event","id":"019ab3c2-5d1e-7f3a-9c4b-2e8d7f6a5b4c","timestamp":"2026-11-25T18:41:11.123Z","name":"app.opened","version":1,"properties":{},"context":{"app_name":"a","app_version":"1","anonymous_id":"u1","os":"linux","arch":"x86_64"}}"#);
//! analyzer.add_line("not json");
//! let report = analyzer.finish();
//! assert_eq!(report.active_users.as_ref().unwrap().series[0].dau, 1);
//! assert_eq!(report.input.malformed_lines, 1);
//! ```

mod active;
mod fast;
mod funnel;
#[cfg(feature = "postgres")]
pub mod postgres;
mod reliability;
pub mod sketch;
pub mod source;
mod tz;
mod view;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, BufRead};
use std::sync::{Arc, Mutex, mpsc};

use serde::Serialize;
use telemetry_core::Record;
use telemetry_core::catalog::{Catalog, Funnel};
use telemetry_core::record::RecordKind;

pub use active::{ActiveUsers, Churn, Cohort, DayActivity, GroupActivity, Retention};
pub use funnel::{FunnelReport, FunnelStepReport, step_matches};
pub use reliability::{FunctionReliability, Reliability};
pub use tz::TimeZone;

use view::View;

/// A hash map keyed by user index or id, with a fast non-cryptographic hash (the
/// keys come from the input, but a collision only costs time).
pub(crate) type Map<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FastHash>>;

/// FxHash (rustc's hash): a multiply-rotate per word.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHash(u64);

impl std::hash::Hasher for FastHash {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.write_u64(word);
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.write_u64(u64::from_le_bytes(tail) ^ rest.len() as u64);
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// How many example locations each kind of input problem keeps.
const EXAMPLES: usize = 10;

/// What to compute.
#[derive(Debug, Clone)]
pub struct Options {
    /// Events that count a user as active; `None`: every event does.
    pub active_events: Option<BTreeSet<String>>,
    /// Split active users by this field: a context field (`os`, `app_version`,
    /// `app_name`, `arch`, or any of them as `context.os`) or an event property.
    pub by: Option<String>,
    /// Funnels to compute.
    pub funnels: Vec<Funnel>,
    /// Split each funnel by this property of its first step's event.
    pub funnel_breakdown: Option<String>,
    /// Events of the plan; records of other events are counted as unknown (and still
    /// used). `None`: no check.
    pub known_events: Option<BTreeSet<String>>,
    /// Length in days of the periods that churn compares (default 7).
    pub churn_period_days: u32,
    /// Largest N of the "day N" retention columns (default 30).
    pub max_retention_day: u32,
    /// The zone whose calendar days bucket the records (default UTC).
    pub time_zone: TimeZone,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            active_events: None,
            by: None,
            funnels: Vec::new(),
            funnel_breakdown: None,
            known_events: None,
            churn_period_days: 7,
            max_retention_day: 30,
            time_zone: TimeZone::utc(),
        }
    }
}

impl Options {
    /// Everything a catalog defines: its funnels, its `active` events (every event
    /// when none is marked), and its event names for the unknown-event count.
    pub fn from_catalog(catalog: &Catalog) -> Options {
        let active: BTreeSet<String> = catalog
            .events
            .iter()
            .filter(|e| e.schema.active)
            .map(|e| e.schema.name.to_string())
            .collect();
        Options {
            active_events: (!active.is_empty()).then_some(active),
            funnels: catalog.funnels.clone(),
            known_events: Some(
                catalog
                    .events
                    .iter()
                    .map(|e| e.schema.name.to_string())
                    .collect(),
            ),
            ..Options::default()
        }
    }
}

/// How the input went: lines read and what was skipped or doubtful.
///
/// Locations are `file:line` (`line N` for input given without a name, see
/// [`Analyzer::begin_source`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Input {
    /// Non-empty lines read.
    pub lines: u64,
    /// Records used.
    pub records: u64,
    /// Lines that are not records (skipped).
    pub malformed_lines: u64,
    /// Line numbers (1-based, counted over all the input) of the first malformed
    /// lines, at most 10.
    pub malformed_examples: Vec<u64>,
    /// The first malformed lines, at most 10: `file:line: why`.
    pub malformed_at: Vec<String>,
    /// Records whose event is not in the catalog, per name (still used).
    pub unknown_events: BTreeMap<String, u64>,
    /// Where each unknown event was first seen (at most 10 names): `file:line`.
    pub unknown_events_at: BTreeMap<String, String>,
    /// Records without `user_id` or `anonymous_id`: no user to count (skipped for user
    /// metrics, used for reliability).
    pub missing_user: u64,
    /// The first records without a user, at most 10: `file:line`.
    pub missing_user_at: Vec<String>,
    /// Records kept by sampling (`sample_rate` below 1), per rate: each stands for
    /// `1 / rate` events and the counts of the report are estimates scaled by it.
    pub sampled: BTreeMap<String, u64>,
    /// Records with a `sample_rate` outside `(0, 1]`, counted as unsampled.
    pub invalid_sample_rate: u64,
    /// The zone of the days (`UTC`, `Europe/Paris`).
    pub time_zone: String,
    /// Files read, in order.
    pub files: Vec<String>,
    /// Files whose reading stopped early (a truncated compressed file, a read
    /// error): what happened; the lines before it are used.
    pub read_errors: Vec<String>,
    /// First and last day seen (`YYYY-MM-DD` in [`Input::time_zone`]).
    pub first_day: Option<String>,
    /// Last day seen.
    pub last_day: Option<String>,
}

impl Input {
    /// Whether the counts are estimates from sampled records.
    pub fn is_estimated(&self) -> bool {
        !self.sampled.is_empty()
    }
}

/// Every metric computed.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What was read.
    pub input: Input,
    /// Which events counted as activity: `all` or a list.
    pub active_events: Vec<String>,
    /// DAU/WAU/MAU and stickiness; `None` without any user.
    pub active_users: Option<ActiveUsers>,
    /// Retention by first-seen-day cohort.
    pub retention: Option<Retention>,
    /// Churn per period.
    pub churn: Vec<Churn>,
    /// One report per funnel.
    pub funnels: Vec<FunnelReport>,
    /// Error rates and latencies of instrumented calls.
    pub reliability: Reliability,
}

/// Reads records and computes the [`Report`].
pub struct Analyzer {
    options: Options,
    input: Input,
    /// Name of the input being read and the line number in it.
    source: Option<String>,
    source_line: u64,
    /// User indexes by id: the ids of at most [`SHORT_ID`] bytes stored inline (no
    /// pointer to follow on a look-up), the others in `long_users`.
    users: Map<[u64; 3], u32>,
    long_users: Map<Box<str>, u32>,
    /// Anonymous ids seen with a user id: the user they belong to.
    aliases: Map<u32, u32>,
    /// The last (anonymous, user) pair recorded, to skip repeating it.
    last_alias: Option<(u32, u32)>,
    /// The ids of the last record (user, then anonymous id when it links one) and
    /// their indexes: consecutive records are often the same user's.
    last_ids: (String, String, Option<(u32, Option<u32>)>),
    /// Per user: the highest sample rate among the records counted as activity
    /// (0: none yet).
    active_rate: Vec<f32>,
    /// Active days (sorted) per group (`""` without `by`) per user.
    activity: BTreeMap<String, Map<u32, Vec<u32>>>,
    /// The group `""` of `activity` (every record's without `by`), apart while
    /// reading: a look-up in `activity` per record costs more than the rest of it.
    ungrouped: Option<Map<u32, Vec<u32>>>,
    /// The last (user, day) added to `ungrouped`: already there for the next records
    /// of the same user that day.
    last_ungrouped: Option<(u32, u32)>,
    funnels: Vec<funnel::FunnelState>,
    reliability: reliability::Collector,
    days: Option<(u32, u32)>,
}

impl Analyzer {
    /// An analyzer computing what `options` says.
    pub fn new(options: Options) -> Analyzer {
        let funnels = options
            .funnels
            .iter()
            .map(|f| funnel::FunnelState::new(f.clone()))
            .collect();
        let input = Input {
            time_zone: options.time_zone.name().to_owned(),
            ..Input::default()
        };
        Analyzer {
            options,
            input,
            source: None,
            source_line: 0,
            users: Map::default(),
            long_users: Map::default(),
            aliases: Map::default(),
            last_alias: None,
            last_ids: (String::new(), String::new(), None),
            active_rate: Vec::new(),
            activity: BTreeMap::new(),
            ungrouped: None,
            last_ungrouped: None,
            funnels,
            reliability: reliability::Collector::default(),
            days: None,
        }
    }

    /// Starts a new input (a file): the lines that follow are numbered from 1 in
    /// `name` in the examples of [`Input`], and `name` is listed in [`Input::files`].
    pub fn begin_source(&mut self, name: impl Into<String>) {
        let name = name.into();
        self.input.files.push(name.clone());
        self.source = Some(name);
        self.source_line = 0;
    }

    /// Notes that reading the current input stopped early (`why` names it): shown in
    /// [`Input::read_errors`]; the lines read so far are kept.
    pub fn read_error(&mut self, why: impl Into<String>) {
        self.input.read_errors.push(why.into());
    }

    fn location(&self) -> String {
        match &self.source {
            Some(name) => format!("{name}:{}", self.source_line),
            None => format!("line {}", self.source_line),
        }
    }

    /// Reads one JSONL line; blank lines are ignored (but numbered), others that are
    /// not records are counted as malformed.
    pub fn add_line(&mut self, line: &str) {
        self.source_line += 1;
        if line.trim().is_empty() {
            return;
        }
        self.input.lines += 1;
        let parsed = serde_json::from_str::<view::Line<'_>>(line)
            .map_err(|e| e.to_string())
            .and_then(|l| view::parse_millis(&l.timestamp).map(|ms| (l, ms)));
        match parsed {
            Ok((l, millis)) => self.add(&View::of_line(&l, millis)),
            Err(why) => self.malformed(why),
        }
    }

    /// Reads every line of `reader` as [`add_line`](Analyzer::add_line) would, parsing
    /// on `threads` threads while this one computes (records are used in the order of
    /// the input). `progress` is called after each block of lines (about 1 MiB).
    ///
    /// # Errors
    ///
    /// A read error (a truncated compressed file, say), with the number of lines
    /// read before it: those lines have been used.
    pub fn read(
        &mut self,
        reader: impl BufRead + Send,
        threads: usize,
        mut progress: impl FnMut(),
    ) -> Result<u64, (u64, io::Error)> {
        let keep = view::Keep {
            context: self.options.by.is_some(),
            properties: self.options.by.is_some()
                || self.options.funnel_breakdown.is_some()
                || self
                    .options
                    .funnels
                    .iter()
                    .any(|f| f.steps.iter().any(|s| !s.filters.is_empty())),
        };
        let threads = threads.max(1);
        // Buffers of used blocks, reused rather than allocated (and faulted in) anew.
        // A fixed number of blocks (in the channels, being parsed, parsed out of order
        // and waiting for an earlier one): memory stays bounded however the threads
        // are scheduled.
        let blocks = threads * 4 + 2;
        let (free_tx, free_rx) = mpsc::sync_channel::<Vec<u8>>(blocks);
        for _ in 0..blocks {
            let _ = free_tx.try_send(Vec::new());
        }
        let pool = Pool::default();
        let pool = &pool;
        std::thread::scope(|scope| {
            let (chunk_tx, chunk_rx) = mpsc::sync_channel::<(u64, Vec<u8>)>(threads * 2);
            let (done_tx, done_rx) = mpsc::sync_channel::<Block>(threads * 2);
            let chunk_rx = Arc::new(Mutex::new(chunk_rx));
            let reading = scope.spawn(move || read_chunks(reader, &chunk_tx, &free_rx));
            for _ in 0..threads {
                let chunk_rx = Arc::clone(&chunk_rx);
                let done_tx = done_tx.clone();
                scope.spawn(move || {
                    loop {
                        let next = chunk_rx.lock().map(|rx| rx.recv());
                        let Ok(Ok((seq, chunk))) = next else {
                            return;
                        };
                        let mut entries = pool.take(&pool.entries);
                        let lines = parse_chunk(chunk, keep, &mut entries);
                        if done_tx.send((seq, lines, entries)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(done_tx);
            // Parsed blocks may arrive out of order: use them in input order.
            let mut pending: BTreeMap<u64, (view::Lines, Vec<Entry>)> = BTreeMap::new();
            let mut next = 0u64;
            // Lines used (one entry per line).
            let mut used = 0u64;
            for (seq, lines, entries) in done_rx {
                pending.insert(seq, (lines, entries));
                while let Some((lines, mut entries)) = pending.remove(&next) {
                    used += entries.len() as u64;
                    for entry in &entries {
                        self.add_entry(entry, &lines);
                    }
                    entries.clear();
                    pool.put(&pool.entries, entries);
                    let mut bytes = lines.into_bytes();
                    bytes.clear();
                    // The reader may be gone (at the end).
                    let _ = free_tx.try_send(bytes);
                    next += 1;
                    progress();
                }
            }
            reading
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the reading thread panicked")))
                .map(|()| used)
                .map_err(|e| (used, e))
        })
    }

    fn add_entry(&mut self, entry: &Entry, block: &view::Lines) {
        self.source_line += 1;
        match entry {
            Entry::Blank => {}
            Entry::Record(parsed) => {
                self.input.lines += 1;
                self.add(&View::of_parsed(parsed, block));
            }
            Entry::Malformed(why) => {
                self.input.lines += 1;
                self.malformed(why.clone());
            }
        }
    }

    fn malformed(&mut self, why: String) {
        self.input.malformed_lines += 1;
        if self.input.malformed_examples.len() < EXAMPLES {
            self.input.malformed_examples.push(self.input.lines);
            let at = self.location();
            self.input.malformed_at.push(format!("{at}: {why}"));
        }
    }

    /// Uses one record. The pipeline's own records (`"type":"stats"`, `identify`) are
    /// not product events and are skipped.
    pub fn add_record(&mut self, record: &Record) {
        self.add(&View::of_record(record));
    }

    /// The index of a user id, added when new.
    fn intern(&mut self, id: &str) -> u32 {
        let next = self.active_rate.len() as u32;
        let u = match short_id(id) {
            Some(key) => *self.users.entry(key).or_insert(next),
            None => match self.long_users.get(id) {
                Some(&u) => u,
                None => {
                    self.long_users.insert(id.into(), next);
                    next
                }
            },
        };
        if u == next {
            self.active_rate.push(0.0);
        }
        u
    }

    /// The index of a record's user: its ids interned, the link of its anonymous id
    /// to its user id noted.
    fn users_of(&mut self, record: &View<'_>) -> Option<u32> {
        let id = record.user?;
        if record.same_ids
            && let Some((user, _)) = self.last_ids.2
        {
            return Some(user);
        }
        let alias = record.alias.filter(|&a| a != id);
        if let Some((user, linked)) = self.last_ids.2
            && self.last_ids.0 == id
            && linked.is_some() == alias.is_some()
            && alias.unwrap_or("") == self.last_ids.1
        {
            // The same ids as the last record: interned and linked already.
            return Some(user);
        }
        let user = self.intern(id);
        let anonymous = alias.map(|anonymous| {
            let anonymous = self.intern(anonymous);
            if self.last_alias != Some((anonymous, user)) {
                self.aliases.entry(anonymous).or_insert(user);
                self.last_alias = Some((anonymous, user));
            }
            anonymous
        });
        let last = &mut self.last_ids;
        last.0.clear();
        last.0.push_str(id);
        last.1.clear();
        last.1.push_str(alias.unwrap_or(""));
        last.2 = Some((user, anonymous));
        Some(user)
    }

    fn add(&mut self, record: &View<'_>) {
        let user = self.users_of(record);
        if record.kind != RecordKind::Event {
            return;
        }
        self.input.records += 1;
        if let Some(known) = &self.options.known_events
            && !known.contains(record.name)
        {
            let at = self.location();
            let input = &mut self.input;
            *input
                .unknown_events
                .entry(record.name.to_owned())
                .or_default() += 1;
            if input.unknown_events_at.len() < EXAMPLES
                && !input.unknown_events_at.contains_key(record.name)
            {
                input.unknown_events_at.insert(record.name.to_owned(), at);
            }
        }
        let rate = match record.sample_rate {
            None => 1.0,
            Some(r) if r > 0.0 && r <= 1.0 => {
                if r < 1.0 {
                    *self.input.sampled.entry(r.to_string()).or_default() += 1;
                }
                r
            }
            Some(_) => {
                self.input.invalid_sample_rate += 1;
                1.0
            }
        };
        let millis = record.millis;
        let day = self.options.time_zone.day(millis);
        self.days = Some(match self.days {
            None => (day, day),
            Some((a, b)) => (a.min(day), b.max(day)),
        });
        self.reliability.add(record, day, 1.0 / rate);
        let Some(user) = user else {
            self.input.missing_user += 1;
            if self.input.missing_user_at.len() < EXAMPLES {
                let at = self.location();
                self.input.missing_user_at.push(at);
            }
            return;
        };
        let counts = self
            .options
            .active_events
            .as_ref()
            .is_none_or(|a| a.contains(record.name));
        if counts {
            let slot = &mut self.active_rate[user as usize];
            *slot = slot.max(rate as f32);
            let group = self
                .options
                .by
                .as_ref()
                .map(|field| field_value(record, field).unwrap_or_else(|| "(none)".into()));
            let group = group.as_deref().unwrap_or("");
            if group.is_empty() {
                if self.last_ungrouped != Some((user, day)) {
                    let users = self.ungrouped.get_or_insert_default();
                    insert_sorted(users.entry(user).or_default(), day);
                    self.last_ungrouped = Some((user, day));
                }
            } else {
                let users = match self.activity.get_mut(group) {
                    Some(users) => users,
                    None => self.activity.entry(group.to_owned()).or_default(),
                };
                insert_sorted(users.entry(user).or_default(), day);
            }
        }
        for state in &mut self.funnels {
            state.add(
                record,
                user,
                rate as f32,
                self.options.funnel_breakdown.as_deref(),
            );
        }
    }

    /// Computes every metric.
    pub fn finish(mut self) -> Report {
        if let Some(users) = self.ungrouped.take() {
            self.activity.insert(String::new(), users);
        }
        self.merge_aliases();
        let mut input = self.input;
        if let Some((first, last)) = self.days {
            input.first_day = Some(date(first));
            input.last_day = Some(date(last));
        }
        let range = self.days;
        let weights: Vec<f64> = self
            .active_rate
            .iter()
            .map(|&r| if r > 0.0 { 1.0 / f64::from(r) } else { 0.0 })
            .collect();
        let active_users = range.and_then(|r| active::active_users(&self.activity, &weights, r));
        // Retention and churn on all users, whatever the grouping.
        let mut all: Map<u32, Vec<u32>> = Map::default();
        for group in self.activity.values() {
            for (user, days) in group {
                let merged = all.entry(*user).or_default();
                for &d in days {
                    insert_sorted(merged, d);
                }
            }
        }
        let retention = range
            .and_then(|r| active::retention(&all, &weights, r, self.options.max_retention_day));
        let churn = range
            .map(|r| active::churn(&all, &weights, r, self.options.churn_period_days.max(1)))
            .unwrap_or_default();
        Report {
            input,
            active_events: match &self.options.active_events {
                None => vec!["all".into()],
                Some(a) => a.iter().cloned().collect(),
            },
            active_users,
            retention,
            churn,
            funnels: self.funnels.into_iter().map(|f| f.finish()).collect(),
            reliability: self.reliability.finish(),
        }
    }
}

impl Analyzer {
    /// Counts the records of an anonymous id that was later (or earlier) seen with a
    /// user id as that user's: the same person before and after signing in.
    fn merge_aliases(&mut self) {
        if self.aliases.is_empty() {
            return;
        }
        let aliases = std::mem::take(&mut self.aliases);
        for group in self.activity.values_mut() {
            for (&anonymous, &user) in &aliases {
                if let Some(days) = group.remove(&anonymous) {
                    let merged = group.entry(user).or_default();
                    for d in days {
                        insert_sorted(merged, d);
                    }
                }
            }
        }
        for (&anonymous, &user) in &aliases {
            let rate = self.active_rate[anonymous as usize];
            let slot = &mut self.active_rate[user as usize];
            *slot = slot.max(rate);
        }
        for funnel in &mut self.funnels {
            funnel.merge_aliases(&aliases);
        }
    }
}

/// One line of a block parsed on a parsing thread.
// Entries live in reused vectors: boxing the large variant would allocate per line.
#[allow(clippy::large_enum_variant)]
enum Entry {
    Blank,
    Record(view::Parsed),
    Malformed(String),
}

/// A block of lines, numbered, and its parsed lines.
type Block = (u64, view::Lines, Vec<Entry>);

/// Emptied buffers of parsed lines, for reuse.
#[derive(Default)]
struct Pool {
    entries: Mutex<Vec<Vec<Entry>>>,
}

impl Pool {
    /// An empty buffer: a reused one if any.
    fn take<T>(&self, from: &Mutex<Vec<Vec<T>>>) -> Vec<T> {
        from.lock()
            .ok()
            .and_then(|mut v| v.pop())
            .unwrap_or_default()
    }

    /// Keeps an emptied buffer for reuse.
    fn put<T>(&self, into: &Mutex<Vec<Vec<T>>>, buffer: Vec<T>) {
        if let Ok(mut v) = into.lock() {
            v.push(buffer);
        }
    }
}

/// Size of the blocks of lines handed to the parsing threads.
const CHUNK: usize = 1 << 20;

/// Reads `reader` in blocks of whole lines and sends them, numbered. A read error
/// ends the reading after sending the whole lines before it.
fn read_chunks(
    mut reader: impl BufRead,
    tx: &mpsc::SyncSender<(u64, Vec<u8>)>,
    free: &mpsc::Receiver<Vec<u8>>,
) -> io::Result<()> {
    let mut seq = 0u64;
    let fresh = || {
        // Waits for a used block when every block is in use.
        let mut block = free.recv().unwrap_or_default();
        block.reserve(CHUNK + 4096);
        block
    };
    let mut block: Vec<u8> = fresh();
    let mut send = |block: Vec<u8>| {
        let ok = tx.send((seq, block)).is_ok();
        seq += 1;
        ok
    };
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // Whole lines only: a partial last line is not a record.
                if let Some(end) = memchr::memrchr(b'\n', &block) {
                    block.truncate(end + 1);
                    send(block);
                }
                return Err(e);
            }
        };
        if buf.is_empty() {
            if !block.is_empty() {
                if block.last() != Some(&b'\n') {
                    block.push(b'\n');
                }
                send(block);
            }
            return Ok(());
        }
        let n = buf.len();
        block.extend_from_slice(buf);
        reader.consume(n);
        if block.len() >= CHUNK
            && let Some(end) = memchr::memrchr(b'\n', &block)
        {
            let mut next = fresh();
            next.extend_from_slice(&block[end + 1..]);
            block.truncate(end + 1);
            let full = std::mem::replace(&mut block, next);
            if !send(full) {
                return Ok(());
            }
        }
    }
}

/// Parses a block of whole lines (each ending with a line feed) into `out`.
fn parse_chunk(chunk: Vec<u8>, keep: view::Keep, out: &mut Vec<Entry>) -> view::Lines {
    out.reserve(chunk.len() / 256);
    // Every block ends with a line feed. Valid UTF-8 (the usual case) is checked once
    // for the whole block.
    let chunk = match String::from_utf8(chunk) {
        Ok(text) => {
            let mut start = 0;
            // The ids of the last record with a user (and whether there was one).
            let mut last = (String::new(), None::<String>, false);
            for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
                // Line feeds are ASCII: the slices are on character boundaries.
                let line = &text[start..end];
                start = end + 1;
                let line = line.strip_suffix('\r').unwrap_or(line);
                out.push(if line.trim().is_empty() {
                    Entry::Blank
                } else {
                    match view::Parsed::parse(line, Some(text.as_bytes()), keep) {
                        Ok(mut p) => {
                            if let Some((user, alias)) = p.ids(&text) {
                                let same = last.2 && last.0 == user && last.1.as_deref() == alias;
                                if !same {
                                    last.0.clear();
                                    last.0.push_str(user);
                                    last.1 = alias.map(str::to_owned);
                                    last.2 = true;
                                }
                                p.same_ids = same;
                            }
                            Entry::Record(p)
                        }
                        Err(why) => Entry::Malformed(why),
                    }
                });
            }
            return view::Lines::Text(text);
        }
        Err(e) => e.into_bytes(),
    };
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', &chunk) {
        let line = &chunk[start..end];
        start = end + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let parsed = match std::str::from_utf8(line) {
            Ok(text) if text.trim().is_empty() => None,
            Ok(text) => Some(view::Parsed::parse(text, Some(&chunk), keep)),
            Err(_) => {
                let text = String::from_utf8_lossy(line);
                (!text.trim().is_empty()).then(|| view::Parsed::parse(&text, None, keep))
            }
        };
        out.push(match parsed {
            None => Entry::Blank,
            Some(Ok(p)) => Entry::Record(p),
            Some(Err(why)) => Entry::Malformed(why),
        });
    }
    view::Lines::Bytes(chunk)
}

/// The longest id kept inline by [`short_id`].
const SHORT_ID: usize = 23;

/// An id of at most [`SHORT_ID`] bytes as three words: its bytes, zero-padded, and
/// its length in the last byte (so that two ids are equal exactly when their words
/// are).
fn short_id(id: &str) -> Option<[u64; 3]> {
    if id.len() > SHORT_ID {
        return None;
    }
    let mut b = [0u8; 24];
    b[..id.len()].copy_from_slice(id.as_bytes());
    b[23] = id.len() as u8;
    let word = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    Some([word(0), word(1), word(2)])
}

/// Adds `day` to a sorted list of days, once.
fn insert_sorted(days: &mut Vec<u32>, day: u32) {
    match days.last() {
        Some(&last) if last == day => {}
        Some(&last) if last > day => {
            if let Err(at) = days.binary_search(&day) {
                days.insert(at, day);
            }
        }
        _ => days.push(day),
    }
}

/// The value of a context field or property as a group label.
fn field_value(record: &View<'_>, field: &str) -> Option<String> {
    let context_field = field.strip_prefix("context.").unwrap_or(field);
    match context_field {
        "os" => return Some(record.os.to_owned()),
        "arch" => return Some(record.arch.to_owned()),
        "app_name" => return Some(record.app_name.to_owned()),
        "app_version" => return Some(record.app_version.to_owned()),
        _ if field.starts_with("context.") => return None,
        _ => {}
    }
    let value = record.property(field)?;
    Some(match value.as_str() {
        Some(s) => s.to_owned(),
        None => serde_json::to_string(value).ok()?,
    })
}

/// A day number (days since 1970-01-01) as `YYYY-MM-DD`.
pub fn date(day: u32) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::from(day) * 86_400);
    humantime::format_rfc3339_seconds(t).to_string()[..10].to_owned()
}

/// A weighted count rounded to a whole number.
pub(crate) fn whole(x: f64) -> u64 {
    x.round().max(0.0) as u64
}

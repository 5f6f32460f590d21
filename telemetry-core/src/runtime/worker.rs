//! The background writer thread: drains the queue, applies consent (buffering while
//! it is unknown) and sampling, turns queued events into records (personal data
//! handling, context with the event's scope, sessions) and writes batches, by count
//! and by bytes, to the sinks.
//!
//! When the queue is empty the writer yields a few times, then announces that it
//! sleeps (`Shared::sleeping`) and parks for [`MAX_IDLE`]: emitting threads never pay a
//! wake-up for sporadic events, and wake it only when the queue fills up (see
//! `queue.rs`).
//!
//! The nap is fixed rather than short after a burst and growing: a nap starting at
//! 1 ms would wake the writer hundreds of times a second for an application emitting
//! every few milliseconds, each time for a handful of events, and every look at an
//! empty queue reads the tail index that emitting threads update with a CAS, so the
//! next emit's CAS waited for that cache line to come back from the writer's core.
//! Measured (BENCHMARKS.md, "Idle"): a sporadic emit from a busy thread took a median
//! of ~190 ns with the fixed nap against ~430 ns with the growing one.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::context::ContextOverride;
use super::inline::CallRef;
use super::jsonl::LineWriter;
use super::pii::PiiPolicy;
use super::policy::Consent;
use super::queue::{Control, Identify, Item, QueuedEvent, Shared, WriterCounters};
use super::sink::{Delivery, Sink};
use crate::record::{Context, RECORD_FORMAT, Record, RecordKind, Timestamp};
use crate::schema::Pii;
use crate::value::{Properties, Value};

/// Most records written in one batch.
const MAX_BATCH: usize = 512;
/// Most (estimated) bytes in one batch.
const MAX_BATCH_BYTES: usize = 1 << 20;
/// The nap of an idle writer: the most an event waits before being written when
/// traffic is too sparse to wake the writer (`flush` and shutdown wake it at once).
pub(super) const MAX_IDLE: Duration = Duration::from_millis(50);
/// Yields before parking: a burst that pauses briefly does not cost a park/unpark.
const SPIN_YIELDS: u32 = 16;

pub(super) struct Writer {
    sinks: Vec<SinkState>,
    context: Context,
    pii: PiiPolicy,
    batch: Vec<Record>,
    batch_bytes: usize,
    values: Vec<(usize, Value)>,
    shared: Arc<Shared>,
    stats_interval: Option<Duration>,
    ids: IdGenerator,
    /// Every sink takes JSON lines: format them directly (see `jsonl.rs`).
    direct: Option<Direct>,
    /// The consent state the writer last acted on.
    consent: Consent,
    /// Events waiting for a consent decision (consent unknown), oldest first.
    undecided: VecDeque<QueuedEvent>,
    undecided_limit: usize,
    /// `identify` records waiting for a consent decision.
    undecided_identify: Vec<Record>,
    /// Bumped whenever `context` changes (identify, a new session).
    context_generation: u64,
    /// The context the direct path's line writer holds: the generation of `context`
    /// and the scope it was merged with (kept alive, so the pointer stays unique).
    applied: Option<(u64, Option<Arc<ContextOverride>>)>,
    /// Inactivity after which a new session starts; `None`: the session is fixed.
    session_timeout: Option<Duration>,
    /// Time of the last event, Unix milliseconds.
    last_activity: u64,
    sampling: super::policy::Sampling,
}

/// What the writer needs besides its sinks, context and PII policy.
pub(super) struct Options {
    pub(super) stats_interval: Option<Duration>,
    pub(super) undecided_limit: usize,
    pub(super) session_timeout: Option<Duration>,
    pub(super) sampling: super::policy::Sampling,
}

/// The batch of the direct path: JSON lines instead of records.
struct Direct {
    writer: LineWriter,
    lines: Vec<u8>,
    count: usize,
}

/// UUID v7 ids, stamped on the writer from the event's timestamp, increasing in the
/// order the writer takes events (RFC 9562, section 6.2, method 2: monotonic random).
///
/// `Uuid::now_v7()` reads the clock and asks the OS for random bytes on every call
/// (a `getrandom` syscall here), which capped the writer's throughput. Instead, the
/// first id of each millisecond takes 64 random-looking bits (splitmix64 of a counter
/// from a per-writer random seed) as the low bits of its 74-bit random field, and the
/// next ids of that millisecond add one: ids of one writer are strictly increasing, so
/// never collide, and two writers collide only if their 64-bit draws for the same
/// millisecond meet. An event stamped earlier than the previous one (the coarse clock
/// read by two threads, a [`ManualClock`](crate::ManualClock) set back) keeps the
/// previous id's millisecond, as the RFC allows, so ids still sort in write order.
struct IdGenerator {
    seed: u64,
    next: u64,
    /// Millisecond of the last id (48 bits).
    last_millis: u64,
    /// The 74-bit random field of the last id.
    last_random: u128,
}

/// The UUID v7 `rand_a` + `rand_b` fields: 74 bits.
const RANDOM_BITS: u32 = 74;

impl IdGenerator {
    fn new() -> IdGenerator {
        let random = uuid::Uuid::now_v7().as_u128();
        let mut ids = IdGenerator {
            seed: random as u64,
            next: (random >> 64) as u64,
            last_millis: 0,
            last_random: 0,
        };
        // Random from the first id on, even for events stamped at the epoch.
        ids.last_random = ids.draw();
        ids
    }

    /// splitmix64 of the next counter value.
    fn draw(&mut self) -> u128 {
        self.next = self.next.wrapping_add(1);
        let mut z = self.next.wrapping_add(self.seed);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        u128::from(z ^ (z >> 31))
    }

    fn id(&mut self, unix_millis: u64) -> uuid::Uuid {
        let millis = unix_millis.min((1 << 48) - 1);
        if millis > self.last_millis {
            self.last_millis = millis;
            self.last_random = self.draw();
        } else {
            self.last_random += 1;
            if self.last_random >> RANDOM_BITS != 0 {
                // 2^74 - 2^64 ids in one millisecond: borrow the next one.
                self.last_millis += 1;
                self.last_random = self.draw();
            }
        }
        let rand_a = self.last_random >> 62;
        let rand_b = self.last_random & ((1 << 62) - 1);
        uuid::Uuid::from_u128(
            u128::from(self.last_millis) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b,
        )
    }
}

struct SinkState {
    sink: Box<dyn Sink>,
    /// Whether a failure of this sink was already reported on stderr.
    reported_failure: bool,
    /// Whether events this sink rejected as invalid were already reported on stderr:
    /// apart from failures, so that a rejection never hides a later outage.
    reported_rejection: bool,
    /// The sink's `bytes_written()` after the last batch.
    bytes: u64,
}

impl SinkState {
    /// Reports the first failure of this sink on stderr; later ones are only counted.
    fn report(&mut self, what: &str, e: &std::io::Error) {
        if !self.reported_failure {
            self.reported_failure = true;
            eprintln!(
                "telemetry: {what} to {} failed: {e} (further errors of this sink are counted in telemetry_core::stats(), not printed)",
                self.sink.name()
            );
        }
    }

    /// Reports the first events this sink rejected as invalid; later ones are only
    /// counted (`Stats::dropped_rejected`).
    fn report_rejection(&mut self, e: &std::io::Error) {
        if !self.reported_rejection {
            self.reported_rejection = true;
            eprintln!(
                "telemetry: {} rejected events as invalid: {e} (further rejections are counted in telemetry_core::stats(), not printed)",
                self.sink.name()
            );
        }
    }
}

impl Writer {
    pub(super) fn new(
        sinks: Vec<Box<dyn Sink>>,
        context: Context,
        pii: PiiPolicy,
        shared: Arc<Shared>,
        options: Options,
    ) -> Writer {
        let last_activity = shared.clock.unix_millis();
        let direct =
            (!sinks.is_empty() && sinks.iter().all(|s| s.accepts_json_lines())).then(|| Direct {
                writer: LineWriter::new(&context),
                lines: Vec::with_capacity(MAX_BATCH_BYTES),
                count: 0,
            });
        Writer {
            direct,
            sinks: sinks
                .into_iter()
                .map(|sink| SinkState {
                    bytes: sink.bytes_written(),
                    sink,
                    reported_failure: false,
                    reported_rejection: false,
                })
                .collect(),
            context,
            pii,
            batch: Vec::with_capacity(MAX_BATCH),
            batch_bytes: 0,
            values: Vec::new(),
            shared,
            stats_interval: options.stats_interval,
            ids: IdGenerator::new(),
            consent: super::policy::consent(),
            undecided: VecDeque::new(),
            undecided_limit: options.undecided_limit,
            undecided_identify: Vec::new(),
            context_generation: 0,
            applied: None,
            session_timeout: options.session_timeout,
            sampling: options.sampling,
            last_activity,
        }
    }

    /// Starts a new session after `session_timeout` without events.
    fn touch_session(&mut self, unix_millis: u64) {
        if let Some(timeout) = self.session_timeout
            && unix_millis.saturating_sub(self.last_activity) >= timeout.as_millis() as u64
        {
            self.context.session_id = Some(super::random_id());
            self.context_generation += 1;
        }
        self.last_activity = self.last_activity.max(unix_millis);
    }

    /// `identify`: the user id of later events (outside scopes), and the record that
    /// links the anonymous id to it. Written only with consent (kept, like events,
    /// while consent is unknown).
    fn identify(&mut self, item: Identify) {
        if item.scope.is_none() {
            self.context.user_id = Some(item.user_id.clone());
            self.context_generation += 1;
        }
        let consent = self.sync_consent();
        if consent == Consent::Denied {
            return;
        }
        let mut context = merged(&self.context, item.scope.as_deref());
        context.user_id = Some(item.user_id);
        self.write_batch();
        let record = Record {
            format: RECORD_FORMAT,
            kind: RecordKind::Identify,
            id: self.ids.id(item.unix_millis),
            timestamp: Timestamp::from_unix_millis(item.unix_millis),
            name: super::IDENTIFY_RECORD_NAME.to_owned(),
            version: 1,
            properties: Properties(Vec::new()),
            context,
            call: None,
            sample_rate: None,
        };
        if consent == Consent::Unknown {
            if self.undecided_identify.len() < self.undecided_limit {
                self.undecided_identify.push(record);
            }
            return;
        }
        self.write_control(&record, "writing identify");
    }

    /// Acts on a consent change since the last call: unknown -> granted writes the
    /// buffered events, unknown -> denied discards and counts them.
    fn sync_consent(&mut self) -> Consent {
        let now = super::policy::consent();
        if now != self.consent {
            self.consent = now;
            match now {
                Consent::Granted => {
                    while let Some(event) = self.undecided.pop_front() {
                        self.build(event);
                        if self.batch_full() {
                            self.write_batch();
                        }
                    }
                    if !self.undecided_identify.is_empty() {
                        self.write_batch();
                        for record in std::mem::take(&mut self.undecided_identify) {
                            self.write_control(&record, "writing identify");
                        }
                    }
                }
                Consent::Denied => self.discard_undecided(),
                Consent::Unknown => {}
            }
        }
        now
    }

    fn discard_undecided(&mut self) {
        self.undecided_identify.clear();
        let n = self.undecided.len() as u64;
        self.undecided.clear();
        self.shared
            .counters
            .writer
            .dropped_no_consent
            .fetch_add(n, Ordering::Relaxed);
    }

    /// Runs until shutdown closes the queue and it is empty.
    pub(super) fn run(mut self) {
        let shared = Arc::clone(&self.shared);
        // The writer is the queue's one consumer while it runs (the guard takes what
        // is left only after it ended), so this never finds the right taken.
        let Some(mut rx) = shared.queue.consumer() else {
            return;
        };
        let mut yields = 0;
        let mut last_stats = Instant::now();
        loop {
            self.sync_consent();
            let mut drained = false;
            while let Some(item) = rx.pop() {
                drained = true;
                match item {
                    Item::Event(event) => self.take(&shared, event),
                    Item::Control(control) => match *control {
                        Control::Identify(item) => self.identify(item),
                        Control::Flush(ack) => {
                            self.sync_consent();
                            self.write_batch();
                            self.flush_sinks();
                            let _ = ack.send(());
                        }
                    },
                }
            }
            if drained {
                // The queue is empty: make what was read visible.
                self.write_batch();
                self.flush_sinks();
                yields = 0;
            }
            if let Some(every) = self.stats_interval
                && last_stats.elapsed() >= every
            {
                last_stats = Instant::now();
                self.write_stats(false);
            }
            if shared.closed.load(Ordering::SeqCst) {
                // Shutdown: what was pushed before `closed` was set is drained by one
                // more pass; later events are counted as dropped (disabled) by shutdown.
                let mut acks = Vec::new();
                while let Some(item) = rx.pop_settled() {
                    match item {
                        Item::Event(event) => self.take(&shared, event),
                        Item::Control(control) => match *control {
                            Control::Identify(item) => self.identify(item),
                            Control::Flush(ack) => acks.push(ack),
                        },
                    }
                }
                // Still undecided at shutdown: nothing was consented to.
                self.sync_consent();
                self.discard_undecided();
                self.write_batch();
                if self.stats_interval.is_some() {
                    // The totals, so the output ends with its own accounting.
                    self.write_stats(true);
                }
                self.flush_sinks();
                for ack in acks {
                    let _ = ack.send(());
                }
                return;
            }
            if drained {
                continue;
            }
            if yields < SPIN_YIELDS {
                yields += 1;
                std::thread::yield_now();
                continue;
            }
            // Announce the nap, then look once more: an event pushed before the
            // announcement is normally seen now; one pushed after sees `sleeping` and
            // may wake us. The look reads the next slot only, not the producers' claim
            // counter: reading that would put its line in this core's cache, and the
            // next emit's claim would wait to take it back. A push this look misses
            // (mid-claim, or not yet visible) waits at most for the end of the nap.
            shared.sleeping.0.store(true, Ordering::SeqCst);
            if !rx.has_next() && !shared.closed.load(Ordering::SeqCst) {
                std::thread::park_timeout(MAX_IDLE);
            }
            shared.sleeping.0.store(false, Ordering::SeqCst);
        }
    }

    /// Consent (buffered while unknown) and sampling, then the record into the batch.
    fn accept(&mut self, event: QueuedEvent) {
        let consent = self.sync_consent();
        if consent != Consent::Granted && !self.shared.essential.contains(event.schema) {
            if consent == Consent::Unknown && self.undecided.len() < self.undecided_limit {
                self.undecided.push_back(event);
            } else {
                self.shared
                    .counters
                    .writer
                    .dropped_no_consent
                    .fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
        self.build(event);
    }

    /// Sampling, then personal data handling and the record into the batch.
    fn build(&mut self, event: QueuedEvent) {
        let rate = self.sampling.rate(event.schema);
        if rate < 1.0 {
            let key = sampling_key(&self.context, event.scope.as_deref());
            if !super::policy::sampled_in(key, rate) {
                self.shared
                    .counters
                    .writer
                    .dropped_sampled_out
                    .fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let sample_rate = (rate < 1.0).then_some(rate);
        self.touch_session(event.unix_millis);
        let id = self.ids.id(event.unix_millis);
        if let Some(direct) = &mut self.direct {
            let scope = event.scope.as_ref();
            let current = self.applied.as_ref().is_some_and(|(generation, applied)| {
                *generation == self.context_generation
                    && match (applied, scope) {
                        (None, None) => true,
                        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                        _ => false,
                    }
            });
            if !current {
                direct
                    .writer
                    .set_context(&merged(&self.context, scope.map(|s| &**s)));
                self.applied = Some((self.context_generation, scope.cloned()));
            }
            let schema = event.schema;
            let pii = &self.pii;
            direct.writer.sample_rate = sample_rate;
            // Straight from the slot to the line: values without personal data are
            // never copied; the others go through the PII policy as `Value`s.
            direct.writer.line(
                &mut direct.lines,
                id,
                event.unix_millis,
                schema,
                event.call().as_ref(),
                |json| {
                    let has_call = event.function.is_some();
                    for (index, value) in event.inline.values(has_call) {
                        match schema.properties.get(index).map(|p| p.pii) {
                            Some(Pii::None) => json.value(index, value),
                            Some(declared) => {
                                if let Some(value) = pii.apply(declared, value.to_value()) {
                                    json.owned(index, &value);
                                }
                            }
                            None => {}
                        }
                    }
                    for (index, value) in event.spill.iter().flat_map(|s| &s.values) {
                        if let Some(property) = schema.properties.get(*index)
                            && let Some(value) = pii.apply(property.pii, value.clone())
                        {
                            json.owned(*index, &value);
                        }
                    }
                },
            );
            direct.count += 1;
            self.batch_bytes = direct.lines.len();
            return;
        }
        self.values.clear();
        event.values(&mut self.values);
        let context = merged(&self.context, event.scope.as_deref());
        let mut record = record_for(event, id, &mut self.values, context, &self.pii);
        record.sample_rate = sample_rate;
        self.batch_bytes += estimate_bytes(&record);
        self.batch.push(record);
    }

    /// The internal `telemetry.stats` record (type `stats`): the counters so far.
    fn write_stats(&mut self, last: bool) {
        self.write_batch();
        let mut s = super::snapshot(&self.shared);
        if last {
            // After the last pass, what is still unaccounted for was pushed by a thread
            // that saw the pipeline open just before shutdown closed it, after the
            // pass: shutdown counts those as dropped (disabled), so the file's last
            // record balances as `stats()` will.
            s.dropped_disabled += s.lost();
        }
        let properties = [
            ("emitted", s.emitted),
            ("exported", s.exported),
            ("dropped_queue_full", s.dropped_queue_full),
            ("dropped_disabled", s.dropped_disabled),
            ("dropped_sampled_out", s.dropped_sampled_out),
            ("dropped_no_consent", s.dropped_no_consent),
            ("failed", s.failed),
            ("dropped_rejected", s.dropped_rejected),
            ("retried", s.retried),
            ("written_bytes", s.written_bytes),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::UInt(v)))
        .collect();
        let unix_millis = self.shared.clock.unix_millis();
        let record = Record {
            format: RECORD_FORMAT,
            kind: RecordKind::Stats,
            id: self.ids.id(unix_millis),
            timestamp: Timestamp::from_unix_millis(unix_millis),
            name: super::STATS_RECORD_NAME.to_owned(),
            version: 1,
            properties: Properties(properties),
            context: self.context.clone(),
            call: None,
            sample_rate: None,
        };
        self.write_control(&record, "writing stats");
    }

    /// Writes a record that is not an event (stats, identify) to every sink, outside
    /// the event accounting.
    fn write_control(&mut self, record: &Record, what: &str) {
        for state in &mut self.sinks {
            let records = std::slice::from_ref(record);
            if let Err(e) = guarded(|| state.sink.write(records)) {
                state.report(what, &e);
            }
            let now = state.sink.bytes_written();
            self.shared
                .counters
                .writer
                .written_bytes
                .fetch_add(now.saturating_sub(state.bytes), Ordering::Relaxed);
            state.bytes = now;
        }
    }

    /// One event off the queue: counted as received, its spill budget released, then
    /// accepted into the batch (written when the batch is full).
    fn take(&mut self, shared: &Shared, event: QueuedEvent) {
        shared
            .counters
            .writer
            .received
            .fetch_add(1, Ordering::Relaxed);
        shared.release(&event);
        self.accept(event);
        if self.batch_full() {
            self.write_batch();
        }
    }

    fn batch_full(&self) -> bool {
        let count = self.direct.as_ref().map_or(self.batch.len(), |d| d.count);
        count >= MAX_BATCH || self.batch_bytes >= MAX_BATCH_BYTES
    }

    fn write_batch(&mut self) {
        let counters = &self.shared.counters.writer;
        if let Some(direct) = &mut self.direct {
            if direct.count == 0 {
                return;
            }
            let lines = &direct.lines;
            let count = direct.count;
            deliver(&mut self.sinks, counters, count, |sink| {
                Delivery::from_result(count, sink.write_json_lines(lines))
            });
            direct.lines.clear();
            direct.count = 0;
        } else {
            if self.batch.is_empty() {
                return;
            }
            let batch = &self.batch;
            deliver(&mut self.sinks, counters, batch.len(), |sink| {
                sink.send(batch)
            });
            self.batch.clear();
        }
        self.batch_bytes = 0;
    }

    fn flush_sinks(&mut self) {
        for state in &mut self.sinks {
            if let Err(e) = guarded(|| state.sink.flush()) {
                state.report("flushing", &e);
            }
        }
    }
}

/// Hands one batch of `count` events to every sink with `send`, and accounts for it.
///
/// With several sinks an event counts as exported only if every sink exported it, so
/// the batch is settled conservatively: `failed` is the most any sink failed,
/// `rejected` the most any sink rejected (within what is left), and the rest is
/// exported, never more than any sink exported. Retried requests add up; the bytes
/// each sink wrote are counted too.
fn deliver(
    sinks: &mut [SinkState],
    counters: &WriterCounters,
    count: usize,
    mut send: impl FnMut(&mut dyn Sink) -> Delivery,
) {
    let total = count as u64;
    let (mut failed, mut rejected, mut retried) = (0u64, 0u64, 0u64);
    for state in sinks {
        let sink = &mut state.sink;
        let mut outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| send(sink.as_mut())))
                .unwrap_or_else(|_| {
                    Delivery::failed(count, std::io::Error::other("the sink panicked"))
                });
        outcome.settle(count);
        failed = failed.max(outcome.failed);
        rejected = rejected.max(outcome.rejected);
        retried += outcome.retried;
        if let Some(e) = &outcome.error {
            if outcome.failed > 0 {
                state.report("writing", e);
            } else {
                state.report_rejection(e);
            }
        }
        let now = state.sink.bytes_written();
        counters
            .written_bytes
            .fetch_add(now.saturating_sub(state.bytes), Ordering::Relaxed);
        state.bytes = now;
    }
    let rejected = rejected.min(total - failed);
    let exported = total - failed - rejected;
    counters.exported.fetch_add(exported, Ordering::Relaxed);
    counters.failed.fetch_add(failed, Ordering::Relaxed);
    counters
        .dropped_rejected
        .fetch_add(rejected, Ordering::Relaxed);
    counters.retried.fetch_add(retried, Ordering::Relaxed);
}

/// Runs a sink call, turning a panic into an error: a buggy sink must neither stop the
/// writer (losing every later event) nor escape the accounting.
fn guarded(call: impl FnOnce() -> std::io::Result<()>) -> std::io::Result<()> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call))
        .unwrap_or_else(|_| Err(std::io::Error::other("the sink panicked")))
}

/// A rough size of a record's JSON line, for batching by bytes.
fn estimate_bytes(record: &Record) -> usize {
    let values: usize = record
        .properties
        .iter()
        .map(|(k, v)| k.len() + 4 + v.as_str().map_or(20, str::len))
        .sum();
    300 + record.name.len() + values
}

/// Who sampling decides on: the user id, else the anonymous id (of the scope when it
/// sets either, as in [`merged`]).
fn sampling_key<'a>(base: &'a Context, scope: Option<&'a ContextOverride>) -> &'a str {
    let (user, anonymous) = match scope {
        Some(s) if s.user_id.is_some() || s.anonymous_id.is_some() => (
            s.user_id.as_deref(),
            s.anonymous_id.as_deref().or(base.anonymous_id.as_deref()),
        ),
        _ => (base.user_id.as_deref(), base.anonymous_id.as_deref()),
    };
    user.or(anonymous).unwrap_or_default()
}

/// The pipeline's context with a scope's values. A scope that sets a user id or an
/// anonymous id is another person: the pipeline's user id does not apply to it.
fn merged(base: &Context, scope: Option<&ContextOverride>) -> Context {
    let mut context = base.clone();
    if let Some(scope) = scope {
        if scope.user_id.is_some() || scope.anonymous_id.is_some() {
            context.user_id.clone_from(&scope.user_id);
        }
        if scope.anonymous_id.is_some() {
            context.anonymous_id.clone_from(&scope.anonymous_id);
        }
        if scope.session_id.is_some() {
            context.session_id.clone_from(&scope.session_id);
        }
    }
    context
}

/// The record for a queued event: declared personal data handling applied, context
/// attached, id stamped.
fn record_for(
    event: QueuedEvent,
    id: uuid::Uuid,
    values: &mut Vec<(usize, Value)>,
    context: Context,
    pii: &PiiPolicy,
) -> Record {
    let schema = event.schema;
    let mut properties = Vec::with_capacity(values.len());
    for (index, value) in values.drain(..) {
        let Some(property) = schema.properties.get(index) else {
            continue;
        };
        if let Some(value) = pii.apply(property.pii, value) {
            properties.push((property.name.to_string(), value));
        }
    }
    Record {
        format: RECORD_FORMAT,
        kind: RecordKind::Event,
        id,
        timestamp: Timestamp::from_unix_millis(event.unix_millis),
        name: schema.name.to_string(),
        version: schema.version,
        properties: Properties(properties),
        context,
        call: event.call().map(CallRef::to_call),
        sample_rate: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_unique_and_carry_the_event_time() {
        let mut ids = IdGenerator::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100_000 {
            let id = ids.id(1_700_000_000_123);
            assert_eq!(id.get_version_num(), 7);
            assert!(seen.insert(id));
        }
        let (secs, nanos) = ids.id(1_700_000_000_123).get_timestamp().unwrap().to_unix();
        assert_eq!((secs, nanos), (1_700_000_000, 123_000_000));
        let id = ids.id(1_700_000_000_124);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(id.get_timestamp().unwrap().to_unix().1, 124_000_000);
    }

    #[test]
    fn ids_increase_in_write_order_even_when_the_clock_goes_back() {
        let mut ids = IdGenerator::new();
        let mut last = ids.id(1_000);
        for millis in [1_000, 1_000, 1_001, 999, 5, 1_001, 2_000, 2_000, 1_500] {
            let id = ids.id(millis);
            assert!(id > last, "{id} after {last}");
            assert!(id.to_string() > last.to_string());
            last = id;
        }
        // Went back: the id keeps the latest millisecond seen.
        let (secs, nanos) = last.get_timestamp().unwrap().to_unix();
        assert_eq!((secs, nanos), (2, 0));

        // Two writers stamping events at the epoch (a manual clock) still differ.
        let (mut a, mut b) = (IdGenerator::new(), IdGenerator::new());
        assert_ne!(a.id(0), b.id(0));
    }
}

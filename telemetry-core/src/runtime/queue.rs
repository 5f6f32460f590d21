//! The hand-off between emitting threads and the writer: a preallocated bounded MPSC
//! queue of fixed-size slots, each holding one event in a compact encoding.
//!
//! Why this shape (measured, see BENCHMARKS.md):
//! - The schema is static, so the caller writes no names and formats nothing: a slot
//!   holds the `&'static EventSchema`, a coarse millisecond timestamp and the property
//!   values encoded as `[index][tag][payload]` into an inline byte array. Scalars, enum
//!   values and strings that fit in [`INLINE_BYTES`] never touch the heap; the writer
//!   decodes, stamps the UUID v7 id and formats JSON.
//! - The queue is `crossbeam_queue::ArrayQueue` (a proven lock-free bounded MPMC array
//!   queue, FIFO, so per-thread order is kept): `push` is one CAS on the tail plus a
//!   slot write, `Err` when full (drop-newest). No unsafe code is needed here.
//! - Bounded in events (`Config::queue_capacity` slots, allocated once at `init`) and in
//!   bytes: the slots are `capacity * size_of::<Item>()` bytes, and the rare events
//!   that do not fit a slot (long strings, `#[instrument_event]` calls) carry a heap
//!   *spill* charged against `Config::queue_bytes`; over budget they are dropped and
//!   counted as queue-full.
//! - No futex wake-up per event: the writer parks with a timeout when idle and
//!   announces it in `sleeping`; a caller unparks it only when the queue is filling up
//!   (a quarter of its slots or half of its byte budget, looked at once every
//!   [`CHECK_EVERY`] emits of a thread), so sporadic events never pay a syscall, and a
//!   burst pays one wake-up per thousands of events.
//! - Few cache misses after the writer was idle: flags the writer writes live on their
//!   own cache lines, and a thread reads them only every [`CHECK_EVERY`] emits
//!   ([`Hints`]); what remains is the slot's stamp, written by the writer's `pop`.
//!
//! Considered and not (yet) taken: per-thread SPSC rings (`rtrb`), which would also
//! avoid that last miss and the CAS, but cost memory per emitting thread (servers run
//! hundreds), need a registry and abandoned-ring handling, and lose the cross-thread
//! order a single queue gives for free; a hand-written variable-length byte ring, which
//! would pack small events tighter but needs `unsafe`. With ~35 ns per emit against a
//! 50 ns target, the proven crate won.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, OnceLock};
use std::thread::Thread;

use crossbeam_queue::ArrayQueue;

use crate::event::{PropertyVisitor, TelemetryEvent};
use crate::property::PropertyValue;
use crate::record::Call;
use crate::schema::EventSchema;
use crate::value::Value;

use super::context::ContextOverride;
use super::policy::Essential;

/// Bytes of encoded property values a slot holds inline. 6 properties of 8-byte
/// numbers take 60 bytes, leaving room for short strings (enum values, codes, ids).
pub(crate) const INLINE_BYTES: usize = 104;
const _: () = assert!(
    INLINE_BYTES <= u8::MAX as usize,
    "lengths are stored in one byte"
);

const TAG_FALSE: u8 = 0;
const TAG_TRUE: u8 = 1;
const TAG_INT: u8 = 2;
const TAG_UINT: u8 = 3;
const TAG_FLOAT: u8 = 4;
const TAG_STR: u8 = 5;

/// One queued event.
pub(crate) struct QueuedEvent {
    pub(crate) schema: &'static EventSchema,
    /// Wall clock when emitted, milliseconds since the Unix epoch (coarse clock).
    pub(crate) unix_millis: u64,
    /// Values that did not fit inline, and the call of an instrumented function.
    pub(crate) spill: Option<Box<Spill>>,
    /// The context scope the event was emitted in (see `context.rs`).
    pub(crate) scope: Option<Arc<ContextOverride>>,
    len: u8,
    inline: [u8; INLINE_BYTES],
}

/// The allocating part of an event that did not fit its slot.
pub(crate) struct Spill {
    pub(crate) values: Vec<(usize, Value)>,
    pub(crate) call: Option<Call>,
    /// Bytes charged against the queue's byte budget, given back when dequeued.
    pub(crate) charged: usize,
}

/// What travels through the queue.
pub(crate) enum Item {
    Event(QueuedEvent),
    /// Anything else, boxed so that an event's slot stays as small as it can.
    Control(Box<Control>),
}

/// Queued requests other than events (rare: not worth a bigger slot).
pub(crate) enum Control {
    /// Write and flush everything queued before this, then answer.
    Flush(SyncSender<()>),
    /// `identify`: link the anonymous id to a user id (see `context.rs`).
    Identify(Identify),
}

/// A queued `identify` call.
pub(crate) struct Identify {
    pub(crate) user_id: String,
    pub(crate) scope: Option<Arc<ContextOverride>>,
    pub(crate) unix_millis: u64,
}

impl QueuedEvent {
    fn new(schema: &'static EventSchema, unix_millis: u64) -> QueuedEvent {
        QueuedEvent {
            schema,
            unix_millis,
            spill: None,
            scope: None,
            len: 0,
            inline: [0; INLINE_BYTES],
        }
    }

    /// Decodes the values (inline ones, then spilled ones) for the writer.
    pub(crate) fn values(&self, out: &mut Vec<(usize, Value)>) {
        let buf = &self.inline[..usize::from(self.len)];
        let mut pos = 0;
        while pos + 2 <= buf.len() {
            let index = usize::from(buf[pos]);
            let tag = buf[pos + 1];
            pos += 2;
            let word = |pos: usize| {
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[pos..pos + 8]);
                b
            };
            let value = match tag {
                TAG_FALSE => Value::Bool(false),
                TAG_TRUE => Value::Bool(true),
                TAG_INT | TAG_UINT | TAG_FLOAT => {
                    let b = word(pos);
                    pos += 8;
                    match tag {
                        TAG_INT => Value::Int(i64::from_le_bytes(b)),
                        TAG_UINT => Value::UInt(u64::from_le_bytes(b)),
                        _ => Value::Float(f64::from_le_bytes(b)),
                    }
                }
                _ => {
                    let n = usize::from(buf[pos]);
                    let s = &buf[pos + 1..pos + 1 + n];
                    pos += 1 + n;
                    // Written from a `&str` by `property` below, so always UTF-8.
                    Value::String(String::from_utf8_lossy(s).into_owned())
                }
            };
            out.push((index, value));
        }
        if let Some(spill) = &self.spill {
            out.extend(spill.values.iter().cloned());
        }
    }
}

/// Encodes properties into the inline area; sets `overflow` when one does not fit.
struct Encoder<'a> {
    event: &'a mut QueuedEvent,
    overflow: bool,
}

impl PropertyVisitor for Encoder<'_> {
    #[inline]
    fn property(&mut self, index: usize, value: PropertyValue<'_>) {
        if self.overflow {
            return;
        }
        let Ok(index) = u8::try_from(index) else {
            self.overflow = true;
            return;
        };
        // Numbers are written as fixed 8-byte words (a single store, no `memcpy`
        // call: the encoder runs once per property on the emitting thread).
        let (tag, word) = match value {
            PropertyValue::Absent => return,
            PropertyValue::Bool(b) => return self.header(index, TAG_FALSE + u8::from(b)),
            PropertyValue::Int(i) if i >= 0 => (TAG_UINT, i as u64),
            PropertyValue::Int(i) => (TAG_INT, i as u64),
            PropertyValue::UInt(u) => (TAG_UINT, u),
            PropertyValue::Float(f) => (TAG_FLOAT, f.to_bits()),
            PropertyValue::Str(s) => return self.string(index, s),
        };
        let pos = usize::from(self.event.len);
        if pos + 10 > INLINE_BYTES {
            self.overflow = true;
            return;
        }
        let buf = &mut self.event.inline;
        buf[pos] = index;
        buf[pos + 1] = tag;
        buf[pos + 2..pos + 10].copy_from_slice(&word.to_le_bytes());
        self.event.len = (pos + 10) as u8;
    }
}

impl Encoder<'_> {
    fn header(&mut self, index: u8, tag: u8) {
        let pos = usize::from(self.event.len);
        if pos + 2 > INLINE_BYTES {
            self.overflow = true;
            return;
        }
        self.event.inline[pos] = index;
        self.event.inline[pos + 1] = tag;
        self.event.len = (pos + 2) as u8;
    }

    fn string(&mut self, index: u8, s: &str) {
        let pos = usize::from(self.event.len);
        let end = pos + 3 + s.len();
        if end > INLINE_BYTES {
            self.overflow = true;
            return;
        }
        let buf = &mut self.event.inline;
        buf[pos] = index;
        buf[pos + 1] = TAG_STR;
        buf[pos + 2] = s.len() as u8; // < INLINE_BYTES <= 255
        buf[pos + 3..end].copy_from_slice(s.as_bytes());
        self.event.len = end as u8;
    }
}

/// Per-pipeline counters. The ones the emitting threads touch (only on drop paths)
/// live on their own cache line, apart from the writer's.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) caller: CallerCounters,
    pub(crate) writer: WriterCounters,
}

#[derive(Default)]
#[repr(align(128))]
pub(crate) struct CallerCounters {
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) dropped_disabled: AtomicU64,
    /// Emitted while consent was denied.
    pub(crate) dropped_no_consent: AtomicU64,
}

#[derive(Default)]
#[repr(align(128))]
pub(crate) struct WriterCounters {
    /// Events taken off the queue by the writer.
    pub(crate) received: AtomicU64,
    pub(crate) dropped_sampled_out: AtomicU64,
    pub(crate) dropped_no_consent: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) written_bytes: AtomicU64,
}

/// What an emitting thread remembers between its emits (in its thread-local), so that
/// most emits read no cache line the writer has written since: after the writer has
/// been idle, each such read is a cross-core miss (~100 ns on this 2-vCPU VM), which
/// would dominate the idle emit.
pub(crate) struct Hints {
    /// Emits since this thread last checked whether the writer sleeps.
    since_check: u32,
    /// This thread's last push found the queue full: check before encoding.
    saw_full: bool,
}

impl Hints {
    pub(crate) const NEW: Hints = Hints {
        since_check: CHECK_EVERY,
        saw_full: false,
    };
}

/// A thread looks at the writer's `sleeping` flag (and the queue's length) once per
/// this many emits, and on its first. The writer's nap is bounded (`MAX_IDLE`), so a
/// thread that emits less often never needs to wake it; one that emits more finds out
/// within a few dozen events.
const CHECK_EVERY: u32 = 32;

/// Keeps a value on its own cache line(s), so writes to it do not evict its neighbours
/// from other cores' caches.
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

/// What emitting threads, the writer and the guard share.
pub(crate) struct Shared {
    pub(crate) queue: ArrayQueue<Item>,
    /// Heap bytes held by queued spills.
    spill_bytes: Padded<AtomicUsize>,
    /// Set by the writer right before it parks; cleared by whoever wakes it.
    pub(crate) sleeping: Padded<AtomicBool>,
    // Read-mostly from here on: written once, or only at shutdown.
    spill_budget: usize,
    wake_len: usize,
    /// Set by shutdown: the writer drains and stops; new events are dropped.
    pub(crate) closed: AtomicBool,
    pub(crate) writer: OnceLock<Thread>,
    pub(crate) counters: Counters,
    /// Categories sent whatever the consent state.
    pub(crate) essential: Essential,
}

impl Shared {
    pub(crate) fn new(capacity: usize, spill_budget: usize, essential: Essential) -> Arc<Shared> {
        Arc::new(Shared {
            queue: ArrayQueue::new(capacity.max(1)),
            spill_bytes: Padded(AtomicUsize::new(0)),
            spill_budget,
            wake_len: (capacity / 4).max(1),
            sleeping: Padded(AtomicBool::new(false)),
            closed: AtomicBool::new(false),
            writer: OnceLock::new(),
            counters: Counters::default(),
            essential,
        })
    }

    /// The emit hot path: encode into a slot on the stack, push, maybe wake the writer.
    #[inline]
    pub(crate) fn emit(
        &self,
        hints: &mut Hints,
        schema: &'static EventSchema,
        event: &dyn TelemetryEvent,
    ) {
        if self.closed.load(Ordering::Relaxed) || !schema.switch.is_on() {
            self.counters
                .caller
                .dropped_disabled
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.denied(schema) {
            return;
        }
        if hints.saw_full && self.queue.is_full() {
            // Saturated: skip the encoding; `push` would fail anyway. (Only asked
            // after a failed push: reading the queue's head costs a cache miss.)
            self.counters
                .caller
                .dropped_queue_full
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut queued = QueuedEvent::new(schema, super::clock::unix_millis());
        queued.scope = super::context::current();
        let mut encoder = Encoder {
            event: &mut queued,
            overflow: false,
        };
        event.visit_properties(&mut encoder);
        if encoder.overflow {
            // The rare allocating path: the whole event goes to the heap.
            let mut values = Vec::with_capacity(schema.properties.len());
            event.visit_properties(&mut |index: usize, value: PropertyValue<'_>| {
                if let Some(v) = Value::from_property(value) {
                    values.push((index, v));
                }
            });
            queued.len = 0;
            if !self.attach_spill(&mut queued, values, None) {
                return;
            }
        }
        self.push(hints, Item::Event(queued));
    }

    /// An event whose values are already owned (`#[instrument_event]` calls).
    pub(crate) fn emit_owned(
        &self,
        hints: &mut Hints,
        schema: &'static EventSchema,
        values: Vec<(usize, Value)>,
        call: Call,
    ) {
        if self.closed.load(Ordering::Relaxed) || !schema.switch.is_on() {
            self.counters
                .caller
                .dropped_disabled
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.denied(schema) {
            return;
        }
        let mut queued = QueuedEvent::new(schema, super::clock::unix_millis());
        queued.scope = super::context::current();
        if self.attach_spill(&mut queued, values, Some(call)) {
            self.push(hints, Item::Event(queued));
        }
    }

    /// Charges a spill against the byte budget; `false` (and counted) when over it.
    fn attach_spill(
        &self,
        queued: &mut QueuedEvent,
        values: Vec<(usize, Value)>,
        call: Option<Call>,
    ) -> bool {
        let strings: usize = values
            .iter()
            .map(|(_, v)| v.as_str().map_or(0, str::len))
            .sum();
        let charged = std::mem::size_of::<Spill>()
            + values.capacity() * std::mem::size_of::<(usize, Value)>()
            + strings
            + call.as_ref().map_or(0, |c| {
                c.function.len() + c.error_kind.as_ref().map_or(0, String::len)
            });
        let before = self.spill_bytes.0.fetch_add(charged, Ordering::Relaxed);
        if before + charged > self.spill_budget {
            self.spill_bytes.0.fetch_sub(charged, Ordering::Relaxed);
            self.counters
                .caller
                .dropped_queue_full
                .fetch_add(1, Ordering::Relaxed);
            return false;
        }
        queued.spill = Some(Box::new(Spill {
            values,
            call,
            charged,
        }));
        true
    }

    #[inline]
    fn push(&self, hints: &mut Hints, item: Item) {
        match self.queue.push(item) {
            Ok(()) => {
                hints.saw_full = false;
                hints.since_check += 1;
                if hints.since_check < CHECK_EVERY {
                    return;
                }
                hints.since_check = 0;
                // SeqCst pairs with the writer's store of `sleeping` before its last
                // look at the queue: if it missed this event, we see it asleep.
                if self.sleeping.0.load(Ordering::SeqCst)
                    && (self.queue.len() >= self.wake_len
                        || self.spill_bytes.0.load(Ordering::Relaxed) * 2 >= self.spill_budget)
                {
                    self.wake();
                }
            }
            Err(item) => {
                hints.saw_full = true;
                if let Item::Event(e) = item {
                    self.release(&e);
                }
                self.counters
                    .caller
                    .dropped_queue_full
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Consent is denied and the event is not essential: counts the drop. One relaxed
    /// load while consent is not denied.
    #[inline]
    fn denied(&self, schema: &'static EventSchema) -> bool {
        if super::policy::denied_now() && !self.essential.contains(schema) {
            self.counters
                .caller
                .dropped_no_consent
                .fetch_add(1, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// Wakes the writer if it sleeps (at most one unpark per sleep).
    pub(crate) fn wake(&self) {
        if self.sleeping.0.swap(false, Ordering::SeqCst)
            && let Some(t) = self.writer.get()
        {
            t.unpark();
        }
    }

    /// Gives a dequeued event's spill bytes back to the budget.
    pub(crate) fn release(&self, event: &QueuedEvent) {
        if let Some(spill) = &event.spill {
            self.spill_bytes
                .0
                .fetch_sub(spill.charged, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event for the encoder tests.
    #[derive(crate::TelemetryEvent)]
    #[telemetry(name = "test.encoded", crate = "crate")]
    struct Encoded;

    #[test]
    fn a_slot_stays_small() {
        // 8192 slots must stay around 1.3 MiB (README, BENCHMARKS.md).
        assert!(
            std::mem::size_of::<Item>() <= 144,
            "{}",
            std::mem::size_of::<Item>()
        );
    }

    #[test]
    fn encoding_round_trips_and_spills_what_does_not_fit() {
        let schema = <Encoded as TelemetryEvent>::schema();
        let mut q = QueuedEvent::new(schema, 0);
        let mut enc = Encoder {
            event: &mut q,
            overflow: false,
        };
        let values = [
            PropertyValue::UInt(u64::MAX),
            PropertyValue::Int(-5),
            PropertyValue::Int(5),
            PropertyValue::Bool(true),
            PropertyValue::Absent,
            PropertyValue::Float(1.5),
            PropertyValue::Str("menu"),
            PropertyValue::Str(""),
        ];
        for (i, v) in values.iter().enumerate() {
            enc.property(i, *v);
        }
        assert!(!enc.overflow);
        let mut out = Vec::new();
        q.values(&mut out);
        assert_eq!(
            out,
            [
                (0, Value::UInt(u64::MAX)),
                (1, Value::Int(-5)),
                (2, Value::UInt(5)),
                (3, Value::Bool(true)),
                (5, Value::Float(1.5)),
                (6, Value::from("menu")),
                (7, Value::from("")),
            ]
        );
        let mut enc = Encoder {
            event: &mut q,
            overflow: false,
        };
        enc.property(8, PropertyValue::Str(&"x".repeat(INLINE_BYTES)));
        assert!(enc.overflow);
    }
}

//! The hand-off between emitting threads and the writer: a preallocated bounded MPSC
//! queue of fixed-size slots, each holding one event in a compact encoding.
//!
//! Why this shape (measured, see BENCHMARKS.md):
//! - The schema is static, so the caller writes no names and formats nothing: a slot
//!   holds the `&'static EventSchema`, a coarse millisecond timestamp and the property
//!   values encoded as `[index][tag][payload]` into an inline byte array (`inline.rs`).
//!   Scalars, enum values and strings that fit, and the outcome of an
//!   `#[instrument_event]` call, never touch the heap; the writer decodes, stamps the
//!   UUID v7 id and formats JSON.
//! - The queue is a bounded MPSC ring of slots (`ring.rs`): FIFO, so per-thread order
//!   is kept; `push` is one CAS on a line only producers touch plus the slot's stores,
//!   `Err` when full (drop-newest); the writer never writes a line a producer reads on
//!   its way in, so a sporadic emit does not wait for lines the writer last held.
//! - Bounded in events (`Config::queue_capacity` slots, allocated once at `init`) and in
//!   bytes: the slots are `capacity * size_of::<Item>()` bytes, and the rare events
//!   that do not fit a slot (long strings or error kinds) carry a heap *spill* charged
//!   against `Config::queue_bytes`; over budget they are dropped and counted as
//!   queue-full.
//! - No futex wake-up per event: the writer parks with a timeout when idle and
//!   announces it in `sleeping`; a caller unparks it only when the queue is filling up
//!   (a quarter of its slots or half of its byte budget, looked at once every
//!   [`CHECK_EVERY`] emits of a thread), so sporadic events never pay a syscall, and a
//!   burst pays one wake-up per thousands of events.
//! - Few cache misses after the writer was idle: flags the writer writes live on their
//!   own cache lines, and a thread reads them only every [`CHECK_EVERY`] emits
//!   ([`Hints`]); an idle writer naps a fixed `worker::MAX_IDLE` instead of polling; and
//!   the ring's push loads nothing the writer wrote (`ring.rs`). Measured: an emit after
//!   the writer was idle went from 170-290 ns with `crossbeam_queue::ArrayQueue` (its
//!   push loads the slot stamp the consumer last wrote, and its claim moves the tail the
//!   consumer reads to tell "empty") to 40 ns.
//!
//! Considered and not taken: per-thread SPSC rings (`rtrb`), which avoid the claim's
//! CAS too, but cost memory per emitting thread (servers run hundreds), need a
//! registry and abandoned-ring handling, and lose the cross-thread order a single
//! queue gives for free (`identify` and `flush` rely on it).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use crate::event::TelemetryEvent;
use crate::instrument::{CallValues, ObservedKind, Outcome};
use crate::property::PropertyValue;
use crate::record::Call;
use crate::schema::EventSchema;
use crate::value::Value;

use super::clock::Clock;
use super::context::ContextOverride;
use super::inline::{CallRef, Encoder, Inline};
use super::policy::Essential;
use super::ring::Ring;

/// One queued event.
pub(crate) struct QueuedEvent {
    pub(crate) schema: &'static EventSchema,
    /// Wall clock when emitted, milliseconds since the Unix epoch (coarse clock).
    pub(crate) unix_millis: u64,
    /// Values that did not fit inline, and the call of an instrumented function.
    pub(crate) spill: Option<Box<Spill>>,
    /// The context scope the event was emitted in (see `context.rs`).
    pub(crate) scope: Option<Arc<ContextOverride>>,
    /// For an `#[instrument_event]` call whose outcome fits the slot: the function;
    /// the rest of the call is the trailer of `inline`.
    pub(crate) function: Option<&'static &'static str>,
    /// Property values (see `inline.rs`).
    pub(crate) inline: Inline,
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
            function: None,
            inline: Inline::EMPTY,
        }
    }

    /// Decodes the values (inline ones, then spilled ones) for the writer.
    pub(crate) fn values(&self, out: &mut Vec<(usize, Value)>) {
        self.inline.values_into(self.function.is_some(), out);
        if let Some(spill) = &self.spill {
            out.extend(spill.values.iter().cloned());
        }
    }

    /// The call of an `#[instrument_event]` function, if this event is one.
    pub(crate) fn call(&self) -> Option<CallRef<'_>> {
        if let Some(function) = self.function {
            return Some(self.inline.call(function));
        }
        self.spill.as_ref()?.call.as_ref().map(CallRef::from)
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
    /// Events a sink rejected as invalid ([`Delivery::rejected`](super::Delivery)).
    pub(crate) dropped_rejected: AtomicU64,
    /// Requests a sink sent again ([`Delivery::retried`](super::Delivery)).
    pub(crate) retried: AtomicU64,
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
    pub(crate) queue: Ring<Item>,
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
    /// Where event timestamps come from.
    pub(crate) clock: Clock,
}

impl Shared {
    pub(crate) fn new(
        capacity: usize,
        spill_budget: usize,
        essential: Essential,
        clock: Clock,
    ) -> Arc<Shared> {
        Arc::new(Shared {
            queue: Ring::new(capacity),
            spill_bytes: Padded(AtomicUsize::new(0)),
            spill_budget,
            wake_len: (capacity / 4).max(1),
            sleeping: Padded(AtomicBool::new(false)),
            closed: AtomicBool::new(false),
            writer: OnceLock::new(),
            counters: Counters::default(),
            essential,
            clock,
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
        if self.saturated(hints) {
            return;
        }
        // Built in place: the slot's bytes are copied once more, into the queue.
        let mut item = Item::Event(QueuedEvent::new(schema, self.clock.unix_millis()));
        let Item::Event(queued) = &mut item else {
            return;
        };
        queued.scope = super::context::current();
        let mut encoder = Encoder {
            inline: &mut queued.inline,
            overflow: false,
        };
        event.visit_properties(&mut encoder);
        if encoder.overflow && !self.spill_all(queued, event) {
            return;
        }
        self.push(hints, item);
    }

    /// The rare allocating path of `emit`: a value did not fit the slot, so the whole
    /// event goes to the heap. `false` (and counted) when over the byte budget.
    #[cold]
    #[inline(never)]
    fn spill_all(&self, queued: &mut QueuedEvent, event: &dyn TelemetryEvent) -> bool {
        let mut values = Vec::with_capacity(queued.schema.properties.len());
        event.visit_properties(&mut |index: usize, value: PropertyValue<'_>| {
            if let Some(v) = Value::from_property(value) {
                values.push((index, v));
            }
        });
        queued.inline = Inline::EMPTY;
        self.attach_spill(queued, values, None)
    }

    /// The event of a finished `#[instrument_event]` call. Its values were encoded when
    /// the call started; the outcome goes into the slot's trailer when it fits (no
    /// allocation), else the whole event spills.
    pub(crate) fn emit_call(
        &self,
        hints: &mut Hints,
        schema: &'static EventSchema,
        function: &'static &'static str,
        values: CallValues,
        (duration, outcome, kind): (Duration, Outcome, Option<ObservedKind>),
    ) {
        if self.closed.load(Ordering::Relaxed) || !schema.switch.is_on() {
            self.counters
                .caller
                .dropped_disabled
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.denied(schema) || self.saturated(hints) {
            return;
        }
        let mut queued = QueuedEvent::new(schema, self.clock.unix_millis());
        queued.scope = super::context::current();
        let values = match values.into_inline() {
            Ok(mut inline) => {
                if inline.push_call(duration, outcome, kind.as_ref()) {
                    queued.inline = inline;
                    queued.function = Some(function);
                    return self.push(hints, Item::Event(queued));
                }
                let mut owned = Vec::new();
                inline.values_into(false, &mut owned);
                owned
            }
            Err(owned) => owned,
        };
        // The rare allocating path: values or error kind too long for the slot.
        let kind = kind.map(ObservedKind::into_string);
        let call = Call::new(*function, duration, outcome, kind);
        if !self.attach_spill(&mut queued, values, Some(call)) {
            return;
        }
        self.push(hints, Item::Event(queued));
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

    /// The last push of this thread failed and the queue is still full: counts the
    /// drop, so the caller skips the encoding (`push` would fail anyway). Only asked
    /// after a failed push: reading the queue's head costs a cache miss.
    #[inline]
    fn saturated(&self, hints: &Hints) -> bool {
        if hints.saw_full && self.queue.is_full() {
            self.counters
                .caller
                .dropped_queue_full
                .fetch_add(1, Ordering::Relaxed);
            return true;
        }
        false
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

    /// An event for the slot tests.
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
    fn inline_values_come_before_spilled_ones_and_the_call_is_found() {
        let schema = <Encoded as TelemetryEvent>::schema();
        let mut q = QueuedEvent::new(schema, 0);
        assert!(q.inline.push(0, PropertyValue::Bool(false)));
        q.spill = Some(Box::new(Spill {
            values: vec![(1, Value::from("long"))],
            call: Some(Call::new(
                "a::f",
                Duration::from_millis(3),
                Outcome::Panicked,
                None,
            )),
            charged: 0,
        }));
        let mut out = Vec::new();
        q.values(&mut out);
        assert_eq!(out, [(0, Value::Bool(false)), (1, Value::from("long"))]);
        let call = q.call().unwrap();
        assert_eq!((call.function, call.outcome), ("a::f", Outcome::Panicked));

        let mut q = QueuedEvent::new(schema, 0);
        assert!(q.call().is_none());
        assert!(q.inline.push(0, PropertyValue::UInt(1)));
        assert!(
            q.inline
                .push_call(Duration::from_millis(2), Outcome::Ok, None)
        );
        q.function = Some(&"a::g");
        let mut out = Vec::new();
        q.values(&mut out);
        assert_eq!(out, [(0, Value::UInt(1))]);
        assert_eq!(q.call().unwrap().duration_ms, 2.0);
    }
}

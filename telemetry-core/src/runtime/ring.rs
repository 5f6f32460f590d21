//! The bounded multi-producer, single-consumer ring behind the queue (`queue.rs`).
//!
//! Why not a general MPMC array queue (`crossbeam_queue::ArrayQueue`, used before):
//! there, a push first *loads* its slot's stamp, which the consumer wrote when it took
//! the slot's previous event, and moves the tail that the consumer reads whenever it
//! finds the queue empty. After the writer has been idle, both are cache lines held by
//! the writer's core, so a sporadic emit waited for two cross-core transfers: on a
//! 2-vCPU VM the *idle* emit cost 170-290 ns while a burst cost 33 (40 ns idle with
//! this ring; BENCHMARKS.md).
//!
//! Here the consumer writes nothing a producer reads on its way in:
//! - producers claim positions from `tail`, which only producers touch (one producer
//!   thread keeps the line in its own cache);
//! - whether the claimed slot is free is decided from a copy of the consumer's `head`
//!   kept next to `tail` (`head_seen`); the consumer's own `head` line is read only
//!   when that copy says the ring is full;
//! - the consumer takes the event at `head` when that slot's stamp says it was
//!   published for this lap, and never writes the slot, nor reads `tail` to tell
//!   "empty" (except when asked to wait for claimed slots: [`Consumer::pop_settled`]).
//!
//! So a push reads only lines the producers own and ends with plain stores (the event,
//! then its stamp) that the CPU's store buffer absorbs: the cost of moving the slot's
//! lines back from the writer's core is not paid by the emitting thread's instruction
//! stream (a later locked instruction on that thread, e.g. the next push's claim,
//! waits for them; measured in BENCHMARKS.md).
//!
//! Positions are monotonic `u64`s (no wrap in practice: 2^64 events); a slot's stamp is
//! its position + 1 once its event is readable. Memory is `capacity` slots, allocated
//! once.
//!
//! This module is the crate's only `unsafe` code: the slots are `MaybeUninit` cells
//! handed between threads by the protocol above. Its tests run the protocol under
//! contention, and its loom models (`loom_tests`, `scripts/loom.sh`) check it in every
//! interleaving and memory ordering outcome within a preemption bound; every `unsafe`
//! block states why it holds.

#![allow(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

use std::mem::MaybeUninit;
use std::sync::atomic::Ordering;

use sync::{AtomicBool, AtomicU64, UnsafeCell};

/// What the ring is built on: std's atomics and cells, or, when the crate's unit tests
/// are built with `--cfg loom` (`scripts/loom.sh`), loom's models of them, so that
/// `loom_tests` explores the interleavings and memory orderings of the protocol.
/// The two expose the same API; the std side is the plain types with no overhead.
mod sync {
    #[cfg(all(test, loom))]
    pub(super) use loom::{
        cell::UnsafeCell,
        hint::spin_loop,
        sync::atomic::{AtomicBool, AtomicU64},
        thread::yield_now,
    };
    #[cfg(not(all(test, loom)))]
    pub(super) use std::{
        hint::spin_loop,
        sync::atomic::{AtomicBool, AtomicU64},
        thread::yield_now,
    };

    /// `std::cell::UnsafeCell` with loom's access API: the pointer is lent to a closure
    /// (`with` to read, `with_mut` to write), which lets loom check each access.
    #[cfg(not(all(test, loom)))]
    #[repr(transparent)]
    pub(super) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    #[cfg(not(all(test, loom)))]
    impl<T> UnsafeCell<T> {
        #[inline]
        pub(super) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        /// Calls `f` with a pointer to the value, for reading.
        #[inline]
        pub(super) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Calls `f` with a pointer to the value, for writing.
        #[inline]
        pub(super) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    /// The value of an atomic the caller has exclusive access to (`AtomicU64::get_mut`,
    /// which loom's atomics spell `with_mut`).
    #[cfg(not(all(test, loom)))]
    #[inline]
    pub(super) fn get_mut(atomic: &mut AtomicU64) -> u64 {
        *atomic.get_mut()
    }

    #[cfg(all(test, loom))]
    pub(super) fn get_mut(atomic: &mut AtomicU64) -> u64 {
        atomic.with_mut(|value| *value)
    }
}

/// One slot: its stamp, then the value.
struct Slot<T> {
    /// `position + 1` once the value for `position` is written; older values mean
    /// the slot holds nothing for the position the consumer is at.
    stamp: AtomicU64,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// Keeps its contents on their own pair of cache lines (adjacent-line prefetch).
#[repr(align(128))]
struct Line<T>(T);

/// What producers share with each other (not with the consumer).
struct Producers {
    /// The next position to claim.
    tail: AtomicU64,
    /// A value `head` had at some point: a lower bound of it.
    head_seen: AtomicU64,
}

/// A bounded MPSC ring of `T`s. `push` from any thread; take with [`Ring::consumer`].
pub(crate) struct Ring<T> {
    producers: Line<Producers>,
    /// The next position to take, written by the consumer only.
    head: Line<AtomicU64>,
    /// Held by the one [`Consumer`] that may take values.
    consuming: Line<AtomicBool>,
    slots: Box<[Slot<T>]>,
    capacity: u64,
    /// `capacity - 1` when the capacity is a power of two (the index is then a mask).
    mask: Option<u64>,
}

// SAFETY: values move between threads through the ring (so `T: Send`); the slots are
// accessed by one producer (the claimer of its position) or the one consumer at a time,
// ordered by the stamps and `head` (see `push` and `Consumer::pop`).
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// A ring of `capacity` slots (at least one), allocated now.
    pub(crate) fn new(capacity: usize) -> Ring<T> {
        let capacity = capacity.max(1);
        let slots = (0..capacity)
            .map(|_| Slot {
                stamp: AtomicU64::new(0),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        let capacity = capacity as u64;
        Ring {
            producers: Line(Producers {
                tail: AtomicU64::new(0),
                head_seen: AtomicU64::new(0),
            }),
            head: Line(AtomicU64::new(0)),
            consuming: Line(AtomicBool::new(false)),
            slots,
            capacity,
            mask: capacity.is_power_of_two().then(|| capacity - 1),
        }
    }

    #[inline]
    fn slot(&self, position: u64) -> &Slot<T> {
        let index = match self.mask {
            Some(mask) => position & mask,
            None => position % self.capacity,
        };
        &self.slots[index as usize]
    }

    /// Adds `value` at the end, or gives it back when the ring is full.
    #[inline]
    pub(crate) fn push(&self, value: T) -> Result<(), T> {
        let producers = &self.producers.0;
        // `tail` is read with Acquire and claimed with Release so that a `tail` read
        // comes with the `head` its claimer had seen: otherwise `head` read next could
        // be older than that claim, and a ring that never held `capacity` values could
        // look full (free on x86: the same instructions as Relaxed).
        let mut tail = producers.tail.load(Ordering::Acquire);
        loop {
            // `head_seen` <= `head`, so a slot free by it is free.
            let mut seen = producers.head_seen.load(Ordering::Acquire);
            if tail.wrapping_sub(seen) >= self.capacity {
                // Full by the copy: look at the consumer's `head` (a cross-core read,
                // only near full).
                seen = self.head.0.load(Ordering::Acquire);
                producers.head_seen.fetch_max(seen, Ordering::AcqRel);
                if tail.wrapping_sub(seen) >= self.capacity {
                    // Full, unless another producer moved `tail` since we read it.
                    let now = producers.tail.load(Ordering::Acquire);
                    if now == tail {
                        return Err(value);
                    }
                    tail = now;
                    continue;
                }
            }
            match producers.tail.compare_exchange_weak(
                tail,
                tail + 1,
                Ordering::Release,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => tail = now,
            }
        }
        let slot = self.slot(tail);
        slot.value.with_mut(|cell| {
            // SAFETY: this thread claimed `tail`, so no other producer writes this slot
            // for this lap; the consumer took the slot's previous value (position
            // `tail - capacity` < `seen` <= `head`, and the Acquire loads of
            // `head_seen`/`head` pair with the consumer's Release store of `head` after
            // it read the value), and will not read it before the stamp below.
            unsafe { (*cell).write(value) };
        });
        slot.stamp.store(tail + 1, Ordering::Release);
        Ok(())
    }

    /// Values claimed and not yet taken (including ones being written right now).
    pub(crate) fn len(&self) -> usize {
        let head = self.head.0.load(Ordering::Acquire);
        let tail = self.producers.0.tail.load(Ordering::Acquire);
        tail.saturating_sub(head) as usize
    }

    /// Whether there is nothing to take (claimed slots being written count as values).
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a push would fail now.
    pub(crate) fn is_full(&self) -> bool {
        self.len() as u64 >= self.capacity
    }

    /// The right to take values, or `None` while another thread holds it.
    pub(crate) fn consumer(&self) -> Option<Consumer<'_, T>> {
        self.consuming
            .0
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        Some(Consumer { ring: self })
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // `&mut self`: no producer is mid-push, so every claimed slot is published.
        let head = sync::get_mut(&mut self.head.0);
        let tail = sync::get_mut(&mut self.producers.0.tail);
        for position in head..tail {
            let slot = self.slot(position);
            debug_assert_eq!(slot.stamp.load(Ordering::Relaxed), position + 1);
            slot.value.with_mut(|cell| {
                // SAFETY: published (above) and not taken (at or after `head`).
                unsafe { (*cell).assume_init_drop() };
            });
        }
    }
}

/// The one thread taking values off a [`Ring`] (see [`Ring::consumer`]).
pub(crate) struct Consumer<'a, T> {
    ring: &'a Ring<T>,
}

impl<T> Consumer<'_, T> {
    /// Takes the first value, or `None` if it is not published yet: the ring is empty,
    /// or the producer that claimed it is between its claim and its stamp (the writer
    /// comes back later; see [`pop_settled`](Self::pop_settled)).
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        let ring = self.ring;
        let head = ring.head.0.load(Ordering::Relaxed);
        let slot = ring.slot(head);
        if slot.stamp.load(Ordering::Acquire) != head + 1 {
            return None;
        }
        let value = slot.value.with(|cell| {
            // SAFETY: the stamp (Acquire, paired with the producer's Release) says the
            // value for `head` is written; this is the only consumer; the producers of
            // the next lap wait for `head` to move past it (below, after the read).
            unsafe { (*cell).assume_init_read() }
        });
        ring.head.0.store(head + 1, Ordering::Release);
        Some(value)
    }

    /// Whether [`pop`](Self::pop) would return a value now. Reads only the first
    /// slot's stamp, never `tail`: a value whose producer is between its claim and its
    /// stamp is not counted.
    #[inline]
    pub(crate) fn has_next(&self) -> bool {
        let head = self.ring.head.0.load(Ordering::Relaxed);
        self.ring.slot(head).stamp.load(Ordering::Acquire) == head + 1
    }

    /// Like [`pop`](Self::pop), but when the first value is claimed and not yet
    /// published, waits for its producer (a few instructions away, unless descheduled)
    /// instead of reporting the ring empty. For draining at shutdown.
    pub(crate) fn pop_settled(&mut self) -> Option<T> {
        let mut spins = 0u32;
        loop {
            if let Some(value) = self.pop() {
                return Some(value);
            }
            let head = self.ring.head.0.load(Ordering::Relaxed);
            if self.ring.producers.0.tail.load(Ordering::Acquire) == head {
                return None;
            }
            spins += 1;
            if spins < 64 {
                sync::spin_loop();
            } else {
                sync::yield_now();
            }
        }
    }
}

impl<T> Drop for Consumer<'_, T> {
    fn drop(&mut self) {
        self.ring.consuming.0.store(false, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn fifo_full_and_wrapping_for_any_capacity() {
        for capacity in [1, 2, 3, 5, 8] {
            let ring = Ring::new(capacity);
            let mut next = 0;
            let mut expect = 0;
            for _ in 0..10 {
                while ring.push(next).is_ok() {
                    next += 1;
                }
                assert_eq!(ring.len(), capacity);
                assert!(ring.is_full());
                assert_eq!(ring.push(999), Err(999));
                let mut rx = ring.consumer().unwrap();
                // Take some (not all), so positions wrap at different offsets.
                for _ in 0..capacity.div_ceil(2) {
                    assert_eq!(rx.pop(), Some(expect));
                    expect += 1;
                }
            }
            let mut rx = ring.consumer().unwrap();
            while let Some(v) = rx.pop() {
                assert_eq!(v, expect);
                expect += 1;
            }
            assert_eq!(expect, next);
            assert!(ring.is_empty());
            assert_eq!(rx.pop_settled(), None);
        }
    }

    #[test]
    fn has_next_sees_published_values_only() {
        let ring = Ring::new(2);
        let mut rx = ring.consumer().unwrap();
        assert!(!rx.has_next());
        assert!(ring.push(1).is_ok());
        assert!(rx.has_next());
        assert_eq!(rx.pop(), Some(1));
        assert!(!rx.has_next());
        // Wrapped: the slot's stamp from the previous lap does not count.
        assert!(ring.push(2).is_ok());
        assert!(ring.push(3).is_ok());
        assert_eq!((rx.pop(), rx.pop()), (Some(2), Some(3)));
        assert!(!rx.has_next());
    }

    #[test]
    fn one_consumer_at_a_time() {
        let ring = Ring::<u8>::new(4);
        let rx = ring.consumer().unwrap();
        assert!(ring.consumer().is_none());
        drop(rx);
        assert!(ring.consumer().is_some());
    }

    /// Counts drops, to check that every value is dropped exactly once.
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn values_left_in_the_ring_are_dropped_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let ring = Ring::new(3);
        for _ in 0..5 {
            assert!(ring.push(Counted(Arc::clone(&drops))).is_ok());
            drop(ring.consumer().unwrap().pop());
        }
        for _ in 0..3 {
            assert!(ring.push(Counted(Arc::clone(&drops))).is_ok());
        }
        // Refused: handed back and dropped by the caller.
        drop(ring.push(Counted(Arc::clone(&drops))));
        assert_eq!(drops.load(Ordering::Relaxed), 6);
        drop(ring);
        assert_eq!(drops.load(Ordering::Relaxed), 9);
    }

    #[test]
    fn many_producers_keep_their_order_and_lose_nothing() {
        const THREADS: u64 = 4;
        const EACH: u64 = 50_000;
        let ring = Arc::new(Ring::<(u64, u64)>::new(64));
        let refused = Arc::new(AtomicUsize::new(0));
        let producers: Vec<_> = (0..THREADS)
            .map(|t| {
                let ring = Arc::clone(&ring);
                let refused = Arc::clone(&refused);
                std::thread::spawn(move || {
                    for i in 0..EACH {
                        // Retry some, drop others: both paths under contention.
                        let mut value = (t, i);
                        let mut tries = 0;
                        while let Err(back) = ring.push(value) {
                            tries += 1;
                            if i % 2 == 0 || tries > 100 {
                                refused.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            value = back;
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let mut last = [None::<u64>; THREADS as usize];
        let mut taken = 0usize;
        let mut rx = ring.consumer().unwrap();
        let mut done = false;
        while !done {
            done = producers.iter().all(|p| p.is_finished());
            while let Some((t, i)) = if done { rx.pop_settled() } else { rx.pop() } {
                let prev = last[t as usize].replace(i);
                assert!(prev.is_none_or(|p| p < i), "thread {t}: {prev:?} then {i}");
                taken += 1;
            }
        }
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(rx.pop_settled(), None);
        assert_eq!(
            taken + refused.load(Ordering::Relaxed),
            (THREADS * EACH) as usize
        );
        assert!(taken > 0);
    }
}

/// Model checks of the protocol: loom runs each test in every interleaving of its
/// threads (up to `PREEMPTIONS` preemptions, or `LOOM_MAX_PREEMPTIONS`), letting each
/// atomic load return any value its memory ordering allows, and fails on any access to
/// a slot's value that is not ordered after the previous one. Run with `scripts/loom.sh`.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::Ring;
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicBool;
    use loom::thread;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Keeps the suite to seconds (unbounded, the larger models take minutes each).
    const PREEMPTIONS: usize = 4;

    fn check(model: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound.get_or_insert(PREEMPTIONS);
        builder.check(model);
    }

    /// The producer index of values pushed before the model's threads start.
    const BEFORE: usize = 2;
    const PRODUCERS: usize = 3;
    const SEQS: usize = 4;

    /// How many times each value was made and dropped. Bookkeeping beside the model
    /// (std atomics, which loom neither schedules around nor checks).
    #[derive(Default)]
    struct Ledger {
        made: [AtomicUsize; PRODUCERS * SEQS],
        dropped: [AtomicUsize; PRODUCERS * SEQS],
    }

    impl Ledger {
        /// A ledger for one execution of a model. Leaked (a few hundred bytes per
        /// execution): a value taken twice, which these tests look for, is dropped twice,
        /// and that must show in the counts rather than free a shared ledger.
        fn new() -> &'static Ledger {
            Box::leak(Box::default())
        }

        fn value(&'static self, producer: usize, seq: usize) -> Value {
            let value = Value {
                producer,
                seq,
                ledger: self,
            };
            self.made[value.index()].fetch_add(1, Ordering::Relaxed);
            value
        }

        fn assert_each_dropped_once(&self) {
            for (index, (made, dropped)) in self.made.iter().zip(&self.dropped).enumerate() {
                assert_eq!(
                    dropped.load(Ordering::Relaxed),
                    made.load(Ordering::Relaxed),
                    "drops of value {}/{}",
                    index / SEQS,
                    index % SEQS
                );
            }
        }
    }

    /// The `seq`th value pushed by `producer`; counts its drops in the ledger.
    struct Value {
        producer: usize,
        seq: usize,
        ledger: &'static Ledger,
    }

    impl Value {
        fn key(&self) -> (usize, usize) {
            (self.producer, self.seq)
        }

        fn index(&self) -> usize {
            self.producer * SEQS + self.seq
        }
    }

    impl Drop for Value {
        fn drop(&mut self) {
            self.ledger.dropped[self.index()].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A thread pushing `seqs` values as `producer`, once each; returns those refused,
    /// checked to be the very value pushed.
    /// A fresh ledger and a shared ring of `capacity` holding `prefilled` values, pushed
    /// before any other thread starts (keys `(BEFORE, 0..prefilled)`).
    fn ring_with(capacity: usize, prefilled: usize) -> (&'static Ledger, Arc<Ring<Value>>) {
        let ledger = Ledger::new();
        let ring = Arc::new(Ring::new(capacity));
        for seq in 0..prefilled {
            assert!(ring.push(ledger.value(BEFORE, seq)).is_ok());
        }
        (ledger, ring)
    }

    fn spawn_producer(
        ring: &Arc<Ring<Value>>,
        ledger: &'static Ledger,
        producer: usize,
        seqs: usize,
    ) -> thread::JoinHandle<Vec<Value>> {
        let ring = Arc::clone(ring);
        thread::spawn(move || {
            let mut refused = Vec::new();
            for seq in 0..seqs {
                if let Err(back) = ring.push(ledger.value(producer, seq)) {
                    assert_eq!(back.key(), (producer, seq));
                    refused.push(back);
                }
            }
            refused
        })
    }

    /// Every value made is in `taken` or `refused`, exactly once, and each producer's
    /// values were taken in the order it pushed them.
    fn assert_accounted(taken: &[Value], refused: &[Value], made: &[(usize, usize)]) {
        let mut seen: Vec<_> = taken.iter().chain(refused).map(Value::key).collect();
        seen.sort_unstable();
        let mut made = made.to_vec();
        made.sort_unstable();
        assert_eq!(seen, made);
        for producer in 0..PRODUCERS {
            let seqs: Vec<_> = taken
                .iter()
                .filter(|v| v.producer == producer)
                .map(|v| v.seq)
                .collect();
            assert!(seqs.is_sorted(), "producer {producer} taken as {seqs:?}");
        }
    }

    fn keys(producers: usize, seqs: usize) -> Vec<(usize, usize)> {
        (0..producers)
            .flat_map(|p| (0..seqs).map(move |s| (p, s)))
            .collect()
    }

    /// Two producers push `seqs` values each while the consumer tries `pops` pops; after
    /// they are joined, `pop_settled` drains the rest.
    fn producers_race_the_consumer(capacity: usize, seqs: usize, pops: usize) {
        check(move || {
            let (ledger, ring) = ring_with(capacity, 0);
            let producers = [0, 1].map(|p| spawn_producer(&ring, ledger, p, seqs));
            let mut taken = Vec::new();
            let mut rx = ring.consumer().expect("the only consumer");
            taken.extend((0..pops).filter_map(|_| rx.pop()));
            let refused: Vec<_> = producers
                .into_iter()
                .flat_map(|p| p.join().unwrap())
                .collect();
            while let Some(value) = rx.pop_settled() {
                taken.push(value);
            }
            assert!(rx.pop().is_none());
            assert!(ring.is_empty());
            drop(rx);
            assert_accounted(&taken, &refused, &keys(2, seqs));
            // A push is refused only when `capacity` positions are claimed.
            assert!(
                taken.len() >= capacity.min(2 * seqs),
                "{} taken, {} refused",
                taken.len(),
                refused.len()
            );
            drop((taken, refused, ring));
            ledger.assert_each_dropped_once();
        });
    }

    #[test]
    fn two_producers_and_the_consumer_with_one_slot() {
        producers_race_the_consumer(1, 2, 2);
    }

    #[test]
    fn two_producers_and_the_consumer_with_two_slots() {
        producers_race_the_consumer(2, 2, 2);
    }

    /// Apart from the other thread's value, the two-slot ring never holds more than one,
    /// so that thread's push is never refused. (With `tail` read Relaxed, it could see
    /// the second claim below with a `head` from before the pop that preceded it.)
    #[test]
    fn a_push_is_not_refused_while_the_ring_has_room() {
        check(|| {
            let (ledger, ring) = ring_with(2, 0);
            let other = spawn_producer(&ring, ledger, 1, 1);
            assert!(ring.push(ledger.value(0, 0)).is_ok(), "room for two");
            // `None`: `other` claimed the first slot and has not published it yet.
            let popped = ring.consumer().expect("the only consumer").pop();
            let mut refused = Vec::new();
            if popped.is_some() {
                assert!(
                    ring.push(ledger.value(0, 1)).is_ok(),
                    "one value in the ring"
                );
            } else if let Err(back) = ring.push(ledger.value(0, 1)) {
                refused.push(back);
            }
            refused.extend(other.join().unwrap());
            assert!(
                refused.iter().all(|v| v.producer == 0),
                "refused with room for it"
            );
            let mut taken: Vec<_> = popped.into_iter().collect();
            let mut rx = ring.consumer().expect("the only consumer");
            while let Some(value) = rx.pop() {
                taken.push(value);
            }
            drop(rx);
            assert_accounted(&taken, &refused, &[(0, 0), (0, 1), (1, 0)]);
            drop((taken, refused, ring));
            ledger.assert_each_dropped_once();
        });
    }

    #[test]
    fn a_full_ring_takes_a_push_once_the_consumer_has_popped() {
        check(|| {
            let (ledger, ring) = ring_with(1, 1);
            let popped = Arc::new(AtomicBool::new(false));
            let producer = {
                let (ring, popped) = (Arc::clone(&ring), Arc::clone(&popped));
                thread::spawn(move || {
                    let Err(back) = ring.push(ledger.value(0, 0)) else {
                        return;
                    };
                    while !popped.load(Ordering::Acquire) {
                        thread::yield_now();
                    }
                    // The copy of `head` says full: the push must look at `head` itself.
                    assert!(ring.push(back).is_ok(), "refused after the pop");
                })
            };
            let mut rx = ring.consumer().expect("the only consumer");
            assert_eq!(rx.pop().map(|v| v.key()), Some((BEFORE, 0)));
            popped.store(true, Ordering::Release);
            producer.join().unwrap();
            assert_eq!(rx.pop_settled().map(|v| v.key()), Some((0, 0)));
            assert!(rx.pop_settled().is_none());
            drop(rx);
            drop(ring);
            ledger.assert_each_dropped_once();
        });
    }

    /// The consumer empties a full ring while two producers push into it: a producer may
    /// claim a freed slot on the copy of `head` another producer refreshed.
    #[test]
    fn producers_refill_slots_freed_under_them() {
        check(|| {
            let (ledger, ring) = ring_with(2, 2);
            let producers = [0, 1].map(|p| spawn_producer(&ring, ledger, p, 1));
            let mut rx = ring.consumer().expect("the only consumer");
            let mut taken = Vec::new();
            for seq in 0..2 {
                let value = rx.pop().expect("pushed before the producers started");
                assert_eq!(value.key(), (BEFORE, seq));
                taken.push(value);
            }
            let refused: Vec<_> = producers
                .into_iter()
                .flat_map(|p| p.join().unwrap())
                .collect();
            while let Some(value) = rx.pop_settled() {
                taken.push(value);
            }
            drop(rx);
            let mut made = keys(2, 1);
            made.extend([(BEFORE, 0), (BEFORE, 1)]);
            assert_accounted(&taken, &refused, &made);
            drop((taken, refused, ring));
            ledger.assert_each_dropped_once();
        });
    }

    /// `pop` reports an empty ring while the first claimed slot is unpublished, even if
    /// a later one is; `pop_settled` waits for it.
    #[test]
    fn pop_settled_waits_for_a_claimed_slot() {
        check(|| {
            let (ledger, ring) = ring_with(2, 0);
            let pushed = Arc::new(AtomicBool::new(false));
            let first = spawn_producer(&ring, ledger, 0, 1);
            let second = {
                let (ring, pushed) = (Arc::clone(&ring), Arc::clone(&pushed));
                thread::spawn(move || {
                    assert!(ring.push(ledger.value(1, 0)).is_ok(), "room for two");
                    pushed.store(true, Ordering::Release);
                })
            };
            let mut rx = ring.consumer().expect("the only consumer");
            while !pushed.load(Ordering::Acquire) {
                thread::yield_now();
            }
            let mut taken = vec![rx.pop_settled().expect("a value is pushed")];
            assert!(first.join().unwrap().is_empty(), "room for two");
            second.join().unwrap();
            taken.push(rx.pop_settled().expect("two values are pushed"));
            assert!(rx.pop_settled().is_none());
            drop(rx);
            assert_accounted(&taken, &[], &keys(2, 1));
            drop((taken, ring));
            ledger.assert_each_dropped_once();
        });
    }

    /// The ring is dropped by whichever thread lets go of it last, with values in it.
    #[test]
    fn values_left_in_a_dropped_ring_are_dropped_once() {
        check(|| {
            let (ledger, ring) = ring_with(2, 0);
            let producers =
                [(0, 2), (1, 1)].map(|(p, seqs)| spawn_producer(&ring, ledger, p, seqs));
            drop(ring.consumer().expect("the only consumer").pop());
            drop(ring);
            for producer in producers {
                drop(producer.join().unwrap());
            }
            ledger.assert_each_dropped_once();
        });
    }

    /// Two threads take turns as the consumer: the lock hands `head` over.
    #[test]
    fn the_consumer_role_passes_between_threads() {
        check(|| {
            let (ledger, ring) = ring_with(2, 2);
            let other = {
                let ring = Arc::clone(&ring);
                thread::spawn(move || ring.consumer().and_then(|mut rx| rx.pop()))
            };
            let mine = ring.consumer().and_then(|mut rx| rx.pop());
            let mut taken: Vec<_> = mine.into_iter().chain(other.join().unwrap()).collect();
            let mut rx = ring.consumer().expect("the others are gone");
            while let Some(value) = rx.pop() {
                taken.push(value);
            }
            drop(rx);
            // Which thread popped first is not observed: check the values, not the order.
            taken.sort_unstable_by_key(Value::key);
            assert_accounted(&taken, &[], &[(BEFORE, 0), (BEFORE, 1)]);
            drop((taken, ring));
            ledger.assert_each_dropped_once();
        });
    }
}

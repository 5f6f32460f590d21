//! The bounded multi-producer, single-consumer ring behind the queue (`queue.rs`).
//!
//! Why not a general MPMC array queue (`crossbeam_queue::ArrayQueue`, used before):
//! there, a push first *loads* its slot's stamp, which the consumer wrote when it took
//! the slot's previous event, and moves the tail that the consumer reads whenever it
//! finds the queue empty. After the writer has been idle, both are cache lines held by
//! the writer's core, so a sporadic emit waited for two cross-core transfers (about
//! 100 ns each on a 2-vCPU VM): the *idle* emit cost 170-290 ns while a burst cost 33.
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
//! contention; every `unsafe` block states why it holds.

#![allow(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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
        let mut tail = producers.tail.load(Ordering::Relaxed);
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
                    let now = producers.tail.load(Ordering::Relaxed);
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
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => tail = now,
            }
        }
        let slot = self.slot(tail);
        // SAFETY: this thread claimed `tail`, so no other producer writes this slot
        // for this lap; the consumer took the slot's previous value (position
        // `tail - capacity` < `seen` <= `head`, and the Acquire loads of
        // `head_seen`/`head` pair with the consumer's Release store of `head` after
        // it read the value), and will not read it before the stamp below.
        unsafe { (*slot.value.get()).write(value) };
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
        let head = *self.head.0.get_mut();
        let tail = *self.producers.0.tail.get_mut();
        for position in head..tail {
            let slot = self.slot(position);
            debug_assert_eq!(slot.stamp.load(Ordering::Relaxed), position + 1);
            // SAFETY: published (above) and not taken (at or after `head`).
            unsafe { (*slot.value.get()).assume_init_drop() };
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
        // SAFETY: the stamp (Acquire, paired with the producer's Release) says the
        // value for `head` is written; this is the only consumer; the producers of the
        // next lap wait for `head` to move past it (below, after the read).
        let value = unsafe { (*slot.value.get()).assume_init_read() };
        ring.head.0.store(head + 1, Ordering::Release);
        Some(value)
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
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

impl<T> Drop for Consumer<'_, T> {
    fn drop(&mut self) {
        self.ring.consuming.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
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

//! What `#[instrument_event]` costs per call, against the same function without it and
//! with `#[tracing::instrument]` (no subscriber, and a subscriber that records every
//! span and its fields).
//!
//! `cargo bench -p telemetry-core --bench instrument`
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use telemetry_core::{Config, MemorySink, TelemetryEvent, emit, instrument_event};

/// The same properties, sent by hand with `emit!`.
#[derive(TelemetryEvent)]
#[telemetry(name = "bench.payment_emitted", owner = "bench")]
pub struct PaymentEmitted<'a> {
    /// Amount.
    pub amount_cents: u64,
    /// Method.
    pub method: &'a str,
}

#[inline(never)]
pub fn emitting(amount_cents: u64, method: &str) -> Result<u64, WorkError> {
    emit!(PaymentEmitted {
        amount_cents,
        method
    });
    plain(amount_cents, method)
}

/// Why the work failed.
#[derive(Debug)]
pub struct WorkError;

#[inline(never)]
pub fn plain(amount_cents: u64, method: &str) -> Result<u64, WorkError> {
    if amount_cents == u64::MAX {
        return Err(WorkError);
    }
    Ok(amount_cents.wrapping_mul(3) + method.len() as u64)
}

/// A payment.
#[instrument_event(name = "bench.payment", owner = "bench", fields(amount_cents, method))]
#[inline(never)]
pub fn instrumented(amount_cents: u64, method: &str) -> Result<u64, WorkError> {
    if amount_cents == u64::MAX {
        return Err(WorkError);
    }
    Ok(amount_cents.wrapping_mul(3) + method.len() as u64)
}

#[tracing::instrument(level = "info", err(Debug))]
#[inline(never)]
pub fn traced(amount_cents: u64, method: &str) -> Result<u64, WorkError> {
    if amount_cents == u64::MAX {
        return Err(WorkError);
    }
    Ok(amount_cents.wrapping_mul(3) + method.len() as u64)
}

/// A subscriber that records every span: its fields, and each enter and exit.
struct Recording {
    next_id: AtomicU64,
    fields: AtomicU64,
    transitions: AtomicU64,
}

struct CountFields<'a>(&'a AtomicU64);

impl tracing::field::Visit for CountFields<'_> {
    fn record_debug(&mut self, _: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        black_box(value);
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn record_u64(&mut self, _: &tracing::field::Field, value: u64) {
        black_box(value);
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn record_str(&mut self, _: &tracing::field::Field, value: &str) {
        black_box(value);
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl tracing::Subscriber for Recording {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        span.record(&mut CountFields(&self.fields));
        tracing::span::Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut CountFields(&self.fields));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        event.record(&mut CountFields(&self.fields));
    }
    fn enter(&self, _: &tracing::span::Id) {
        self.transitions.fetch_add(1, Ordering::Relaxed);
    }
    fn exit(&self, _: &tracing::span::Id) {
        self.transitions.fetch_add(1, Ordering::Relaxed);
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("call");
    group.bench_function("plain", |b| {
        b.iter(|| plain(black_box(1250), black_box("card")));
    });
    group.bench_function("instrument_event/off", |b| {
        b.iter(|| instrumented(black_box(1250), black_box("card")));
    });
    group.bench_function("emit/off", |b| {
        b.iter(|| emitting(black_box(1250), black_box("card")));
    });
    group.bench_function("tracing_instrument/no_subscriber", |b| {
        b.iter(|| traced(black_box(1250), black_box("card")));
    });
    let recording = Recording {
        next_id: AtomicU64::new(0),
        fields: AtomicU64::new(0),
        transitions: AtomicU64::new(0),
    };
    tracing::subscriber::with_default(recording, || {
        group.bench_function("tracing_instrument/recording_subscriber", |b| {
            b.iter(|| traced(black_box(1250), black_box("card")));
        });
    });
    // Last: once started, the pipeline stays on for this process.
    let guard = telemetry_core::init(
        Config::new("bench", "0")
            .sink(MemorySink::new())
            .queue_capacity(1 << 16),
    );
    group.bench_function("instrument_event/on", |b| {
        b.iter(|| instrumented(black_box(1250), black_box("card")));
    });
    group.bench_function("emit/on", |b| {
        b.iter(|| emitting(black_box(1250), black_box("card")));
    });
    group.finish();
    let stats = telemetry_core::stats();
    eprintln!(
        "instrument_event/on: {} events emitted, {} dropped because the queue was full",
        stats.emitted, stats.dropped_queue_full
    );
    drop(guard);
}

criterion_group!(benches, bench);
criterion_main!(benches);

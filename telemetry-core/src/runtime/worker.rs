//! The background writer thread: drains the queue, turns pending events into records
//! (personal data handling, context) and writes batches to the sinks.

use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;

use super::pii::PiiPolicy;
use super::sink::Sink;
use std::sync::Arc;

use super::{Counters, Message, PendingEvent};
use crate::record::{Context, RECORD_FORMAT, Record, RecordKind};
use crate::value::Properties;

/// Most records written in one batch.
const MAX_BATCH: usize = 512;

pub(super) struct Writer {
    sinks: Vec<SinkState>,
    context: Context,
    pii: PiiPolicy,
    batch: Vec<Record>,
    counters: Arc<Counters>,
}

struct SinkState {
    sink: Box<dyn Sink>,
    /// Whether an error of this sink was already reported on stderr.
    reported: bool,
}

impl SinkState {
    fn report(&mut self, what: &str, e: &std::io::Error) {
        if !self.reported {
            self.reported = true;
            eprintln!(
                "telemetry: {what} to {} failed: {e} (further errors of this sink are counted in telemetry_core::stats(), not printed)",
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
        counters: Arc<Counters>,
    ) -> Writer {
        Writer {
            sinks: sinks
                .into_iter()
                .map(|sink| SinkState {
                    sink,
                    reported: false,
                })
                .collect(),
            context,
            pii,
            batch: Vec::with_capacity(MAX_BATCH),
            counters,
        }
    }

    /// Runs until every sender is gone and the queue is empty.
    pub(super) fn run(mut self, rx: Receiver<Message>) {
        while let Ok(first) = rx.recv() {
            let mut next = Some(first);
            // Drain what is already queued, writing every MAX_BATCH records.
            while let Some(message) = next.take() {
                match message {
                    Message::Event(pending) => {
                        let record = record_for(pending, &self.context, &self.pii);
                        self.batch.push(record);
                        if self.batch.len() >= MAX_BATCH {
                            self.write_batch();
                        }
                    }
                    Message::Flush(ack) => {
                        self.write_batch();
                        self.flush_sinks();
                        let _ = ack.send(());
                    }
                }
                next = rx.try_recv().ok();
            }
            // The queue is idle: make what was written visible.
            self.write_batch();
            self.flush_sinks();
        }
        self.write_batch();
        self.flush_sinks();
    }

    fn write_batch(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let mut ok = true;
        for state in &mut self.sinks {
            let batch = &self.batch;
            if let Err(e) = guarded(|| state.sink.write(batch)) {
                ok = false;
                state.report("writing", &e);
            }
        }
        let n = self.batch.len() as u64;
        let counter = if ok {
            &self.counters.exported
        } else {
            &self.counters.failed
        };
        counter.fetch_add(n, Ordering::Relaxed);
        self.batch.clear();
    }

    fn flush_sinks(&mut self) {
        for state in &mut self.sinks {
            if let Err(e) = guarded(|| state.sink.flush()) {
                state.report("flushing", &e);
            }
        }
    }
}

/// Runs a sink call, turning a panic into an error: a buggy sink must neither stop the
/// writer (losing every later event) nor escape the accounting.
fn guarded(call: impl FnOnce() -> std::io::Result<()>) -> std::io::Result<()> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call))
        .unwrap_or_else(|_| Err(std::io::Error::other("the sink panicked")))
}

/// The record for a pending event: declared personal data handling applied, context
/// attached.
fn record_for(pending: PendingEvent, context: &Context, pii: &PiiPolicy) -> Record {
    let schema = pending.schema;
    let mut properties = Vec::with_capacity(pending.values.len());
    for (index, value) in pending.values {
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
        id: pending.id,
        timestamp: pending.timestamp,
        name: schema.name.to_string(),
        version: schema.version,
        properties: Properties(properties),
        context: context.clone(),
        call: pending.call,
    }
}

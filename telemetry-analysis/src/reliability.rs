//! Reliability of instrumented functions: outcomes and latency of `call` records.

use std::collections::BTreeMap;

use serde::Serialize;
use telemetry_core::{Outcome, Record};

use crate::active::ratio;
use crate::date;
use crate::sketch::{Latencies, Percentiles};

/// Outcomes and latencies per instrumented function and per event.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reliability {
    /// Per function path (`call.function`), sorted.
    pub functions: Vec<FunctionReliability>,
    /// Per event name, for events sent by instrumented calls.
    pub events: Vec<FunctionReliability>,
}

/// Calls of one function (or of one event's functions).
#[derive(Debug, Clone, Serialize)]
pub struct FunctionReliability {
    /// Function path or event name.
    pub name: String,
    /// Calls recorded.
    pub calls: u64,
    /// Calls that returned `Err`.
    pub errors: u64,
    /// Calls that panicked.
    pub panics: u64,
    /// Futures dropped before completing.
    pub cancelled: u64,
    /// `(errors + panics) / calls`.
    pub error_rate: f64,
    /// Error kinds and how often each occurred.
    pub error_kinds: BTreeMap<String, u64>,
    /// Latency percentiles in milliseconds.
    pub latency_ms: Option<Percentiles>,
    /// Per UTC day: calls and failed calls (errors and panics).
    pub by_day: BTreeMap<String, (u64, u64)>,
}

#[derive(Default)]
struct Tally {
    calls: u64,
    errors: u64,
    panics: u64,
    cancelled: u64,
    kinds: BTreeMap<String, u64>,
    latencies: Latencies,
    by_day: BTreeMap<u32, (u64, u64)>,
}

#[derive(Default)]
pub(crate) struct Collector {
    functions: BTreeMap<String, Tally>,
    events: BTreeMap<String, Tally>,
}

impl Collector {
    pub(crate) fn add(&mut self, record: &Record, day: u32) {
        let Some(call) = &record.call else {
            return;
        };
        for tally in [
            self.functions.entry(call.function.clone()).or_default(),
            self.events.entry(record.name.clone()).or_default(),
        ] {
            tally.calls += 1;
            let failed = match call.outcome {
                Outcome::Error => {
                    tally.errors += 1;
                    let kind = call
                        .error_kind
                        .clone()
                        .unwrap_or_else(|| "(unknown)".into());
                    *tally.kinds.entry(kind).or_default() += 1;
                    true
                }
                Outcome::Panicked => {
                    tally.panics += 1;
                    true
                }
                Outcome::Cancelled => {
                    tally.cancelled += 1;
                    false
                }
                _ => false,
            };
            let slot = tally.by_day.entry(day).or_default();
            slot.0 += 1;
            slot.1 += u64::from(failed);
            tally.latencies.add(call.duration_ms);
        }
    }

    pub(crate) fn finish(self) -> Reliability {
        let convert = |map: BTreeMap<String, Tally>| {
            map.into_iter()
                .map(|(name, t)| FunctionReliability {
                    name,
                    calls: t.calls,
                    errors: t.errors,
                    panics: t.panics,
                    cancelled: t.cancelled,
                    error_rate: ratio(t.errors + t.panics, t.calls),
                    error_kinds: t.kinds,
                    latency_ms: t.latencies.percentiles(),
                    by_day: t.by_day.into_iter().map(|(d, v)| (date(d), v)).collect(),
                })
                .collect()
        };
        Reliability {
            functions: convert(self.functions),
            events: convert(self.events),
        }
    }
}

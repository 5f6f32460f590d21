//! Reliability of instrumented functions: outcomes and latency of `call` records.

use std::collections::BTreeMap;

use serde::Serialize;
use telemetry_core::Outcome;

use crate::active::fratio;
use crate::sketch::{Latencies, Percentiles};
use crate::view::View;
use crate::{date, whole};

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
    /// Per day (in the report's time zone): calls and failed calls (errors and
    /// panics).
    pub by_day: BTreeMap<String, (u64, u64)>,
}

/// Weighted counts (a sampled call stands for `1 / sample_rate` calls).
#[derive(Default)]
struct Tally {
    calls: f64,
    errors: f64,
    panics: f64,
    cancelled: f64,
    kinds: BTreeMap<String, f64>,
    latencies: Latencies,
    by_day: BTreeMap<u32, (f64, f64)>,
}

#[derive(Default)]
pub(crate) struct Collector {
    functions: BTreeMap<String, Tally>,
    events: BTreeMap<String, Tally>,
}

fn tally<'a>(map: &'a mut BTreeMap<String, Tally>, key: &str) -> &'a mut Tally {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), Tally::default());
    }
    map.get_mut(key).expect("inserted above")
}

impl Collector {
    pub(crate) fn add(&mut self, record: &View<'_>, day: u32, weight: f64) {
        let Some(call) = &record.call else {
            return;
        };
        for tally in [
            tally(&mut self.functions, call.function),
            tally(&mut self.events, record.name),
        ] {
            tally.calls += weight;
            let failed = match call.outcome {
                Outcome::Error => {
                    tally.errors += weight;
                    let kind = call.error_kind.unwrap_or("(unknown)");
                    match tally.kinds.get_mut(kind) {
                        Some(n) => *n += weight,
                        None => {
                            tally.kinds.insert(kind.to_owned(), weight);
                        }
                    }
                    true
                }
                Outcome::Panicked => {
                    tally.panics += weight;
                    true
                }
                Outcome::Cancelled => {
                    tally.cancelled += weight;
                    false
                }
                _ => false,
            };
            let slot = tally.by_day.entry(day).or_default();
            slot.0 += weight;
            if failed {
                slot.1 += weight;
            }
            tally.latencies.add(call.duration_ms);
        }
    }

    pub(crate) fn finish(self) -> Reliability {
        let convert = |map: BTreeMap<String, Tally>| {
            map.into_iter()
                .map(|(name, t)| FunctionReliability {
                    name,
                    calls: whole(t.calls),
                    errors: whole(t.errors),
                    panics: whole(t.panics),
                    cancelled: whole(t.cancelled),
                    error_rate: fratio(t.errors + t.panics, t.calls),
                    error_kinds: t.kinds.into_iter().map(|(k, n)| (k, whole(n))).collect(),
                    latency_ms: t.latencies.percentiles(),
                    by_day: t
                        .by_day
                        .into_iter()
                        .map(|(d, (calls, failed))| (date(d), (whole(calls), whole(failed))))
                        .collect(),
                })
                .collect()
        };
        Reliability {
            functions: convert(self.functions),
            events: convert(self.events),
        }
    }
}

//! Funnels: users who did the steps in order, within the conversion window.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use telemetry_core::Record;
use telemetry_core::Value;
use telemetry_core::catalog::{FilterValue, Funnel, FunnelStep};

use crate::active::ratio;

/// Whether a record counts as this step: same event, every filter matches.
pub fn step_matches(step: &FunnelStep, record: &Record) -> bool {
    record.name == step.event
        && step.filters.iter().all(|f| {
            record
                .properties
                .get(&f.property)
                .is_some_and(|v| value_equals(v, &f.equals))
        })
}

fn value_equals(value: &Value, expected: &FilterValue) -> bool {
    match expected {
        FilterValue::String(s) => value.as_str() == Some(&**s),
        FilterValue::Integer(i) => value.as_integer() == Some(i128::from(*i)),
        FilterValue::Boolean(b) => value.as_bool() == Some(*b),
    }
}

/// One funnel's result.
#[derive(Debug, Clone, Serialize)]
pub struct FunnelReport {
    /// Funnel name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Conversion window as written (`1d`).
    pub window: String,
    /// Per step, all users.
    pub steps: Vec<FunnelStepReport>,
    /// Users who did every step.
    pub converted: u64,
    /// `converted` over users who did the first step.
    pub conversion: f64,
    /// Median time from the first step to the last, in seconds, over converted users
    /// (each user's fastest conversion).
    pub median_seconds_to_convert: Option<f64>,
    /// Per value of the breakdown property (read on the first step's event).
    pub breakdown: BTreeMap<String, Vec<u64>>,
}

/// One step of a [`FunnelReport`].
#[derive(Debug, Clone, Serialize)]
pub struct FunnelStepReport {
    /// Event name, with its filters as `event where p = v`.
    pub step: String,
    /// Users who reached this step (in order, within the window).
    pub users: u64,
    /// `users` over the previous step's users (1 for the first step).
    pub conversion_from_previous: f64,
    /// `users` over the first step's users.
    pub conversion_from_first: f64,
    /// Users of the previous step who did not reach this one.
    pub dropped: u64,
}

pub(crate) struct FunnelState {
    funnel: Funnel,
    window_ms: u64,
    /// Per user: (timestamp, step index, breakdown value of a first-step event).
    hits: HashMap<u32, Vec<(u64, u16, Option<String>)>>,
}

impl FunnelState {
    pub(crate) fn new(funnel: Funnel) -> FunnelState {
        let window_ms = funnel
            .window_duration()
            .map_or(86_400_000, |d| d.as_millis() as u64);
        FunnelState {
            funnel,
            window_ms,
            hits: HashMap::new(),
        }
    }

    pub(crate) fn add(&mut self, record: &Record, user: u32, millis: u64, breakdown: Option<&str>) {
        for (i, step) in self.funnel.steps.iter().enumerate() {
            if step_matches(step, record) {
                let group = (i == 0)
                    .then(|| {
                        breakdown.map(|p| {
                            record
                                .properties
                                .get(p)
                                .map(|v| v.as_str().map_or_else(|| format!("{v:?}"), str::to_owned))
                                .unwrap_or_else(|| "(none)".into())
                        })
                    })
                    .flatten();
                self.hits
                    .entry(user)
                    .or_default()
                    .push((millis, i as u16, group));
            }
        }
    }

    pub(crate) fn finish(self) -> FunnelReport {
        let n = self.funnel.steps.len();
        let mut reached = vec![0u64; n];
        let mut times = Vec::new();
        let mut breakdown: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for mut hits in self.hits.into_values() {
            // Records may come in any order: sort each user's steps by time (a tie
            // keeps the funnel order).
            hits.sort_by_key(|h| (h.0, h.1));
            let (depth, time, group) = best_attempt(&hits, n, self.window_ms);
            for r in reached.iter_mut().take(depth) {
                *r += 1;
            }
            if depth == n
                && let Some(t) = time
            {
                times.push(t);
            }
            if let Some(g) = group {
                let row = breakdown.entry(g).or_insert_with(|| vec![0; n]);
                for r in row.iter_mut().take(depth) {
                    *r += 1;
                }
            }
        }
        times.sort_unstable();
        let median = (!times.is_empty()).then(|| {
            let mid = times.len() / 2;
            let ms = if times.len() % 2 == 1 {
                times[mid] as f64
            } else {
                (times[mid - 1] + times[mid]) as f64 / 2.0
            };
            ms / 1000.0
        });
        let steps = self
            .funnel
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let previous = if i == 0 { reached[0] } else { reached[i - 1] };
                FunnelStepReport {
                    step: step_label(step),
                    users: reached[i],
                    conversion_from_previous: ratio(reached[i], previous),
                    conversion_from_first: ratio(reached[i], reached[0]),
                    dropped: previous - reached[i],
                }
            })
            .collect();
        FunnelReport {
            name: self.funnel.name.to_string(),
            description: self.funnel.description.to_string(),
            window: self.funnel.window.to_string(),
            steps,
            converted: reached[n - 1],
            conversion: ratio(reached[n - 1], reached[0]),
            median_seconds_to_convert: median,
            breakdown,
        }
    }
}

/// `event` or `event where p = v && q = w`.
fn step_label(step: &FunnelStep) -> String {
    let mut s = step.event.to_string();
    for (i, f) in step.filters.iter().enumerate() {
        s.push_str(if i == 0 { " where " } else { " && " });
        s.push_str(&format!("{} = {}", f.property, f.equals));
    }
    s
}

/// Over every first-step event as a start: the deepest step reached in order within
/// the window, the shortest time to the last step, and the start's breakdown value.
/// Each later step is the earliest matching event after the previous step, so a step
/// done twice counts once and a step done before its predecessor does not count.
fn best_attempt(
    hits: &[(u64, u16, Option<String>)],
    n: usize,
    window: u64,
) -> (usize, Option<u64>, Option<String>) {
    let mut best = (0usize, None::<u64>, None::<String>);
    for (start_at, start) in hits.iter().enumerate().filter(|(_, h)| h.1 == 0) {
        let mut depth = 1;
        let mut end = start.0;
        for h in &hits[start_at + 1..] {
            if depth == n || h.0 - start.0 > window {
                break;
            }
            if usize::from(h.1) == depth {
                depth += 1;
                end = h.0;
            }
        }
        let time = (depth == n).then_some(end - start.0);
        let better = depth > best.0
            || (depth == best.0 && time.is_some() && best.1.is_none_or(|b| time < Some(b)));
        if better {
            best = (depth, time, start.2.clone());
        }
    }
    best
}

//! Funnels: users who did the steps in order, within the conversion window.

use std::collections::BTreeMap;

use serde::Serialize;
use telemetry_core::Record;
use telemetry_core::Value;
use telemetry_core::catalog::{FilterValue, Funnel, FunnelStep};

use crate::active::fratio;
use crate::view::View;
use crate::{Map, whole};

/// A user's list of step events is compacted when it reaches this length (and then
/// each time it doubles).
const COMPACT_AT: usize = 64;

/// Whether a record counts as this step: same event, every filter matches.
pub fn step_matches(step: &FunnelStep, record: &Record) -> bool {
    view_matches(step, &View::of_record(record))
}

fn view_matches(step: &FunnelStep, record: &View<'_>) -> bool {
    record.name == step.event
        && step.filters.iter().all(|f| {
            record
                .property(&f.property)
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
    /// Per step, all users (estimated from sampled records when the input says so).
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

/// One step event of a user: (time in ms, step index, breakdown value of a
/// first-step event as an index into `FunnelState::groups`, [`NO_GROUP`] without).
type Hit = (u64, u16, u32);

/// No breakdown value.
const NO_GROUP: u32 = u32::MAX;

#[derive(Default)]
struct UserHits {
    hits: Vec<Hit>,
    /// Length after the last compaction.
    compacted: usize,
    /// Highest sample rate among the user's step records.
    rate: f32,
}

pub(crate) struct FunnelState {
    funnel: Funnel,
    window_ms: u64,
    hits: Map<u32, UserHits>,
    /// Breakdown values seen, and their indexes.
    groups: Vec<String>,
    group_index: Map<String, u32>,
}

impl FunnelState {
    pub(crate) fn new(funnel: Funnel) -> FunnelState {
        let window_ms = funnel
            .window_duration()
            .map_or(86_400_000, |d| d.as_millis() as u64);
        FunnelState {
            funnel,
            window_ms,
            hits: Map::default(),
            groups: Vec::new(),
            group_index: Map::default(),
        }
    }

    pub(crate) fn add(&mut self, record: &View<'_>, user: u32, rate: f32, breakdown: Option<&str>) {
        for (i, step) in self.funnel.steps.iter().enumerate() {
            if view_matches(step, record) {
                let group = match breakdown {
                    Some(p) if i == 0 => {
                        let value = record
                            .property(p)
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                            .unwrap_or_else(|| "(none)".into());
                        match self.group_index.get(&value) {
                            Some(&g) => g,
                            None => {
                                let g = self.groups.len() as u32;
                                self.groups.push(value.clone());
                                self.group_index.insert(value, g);
                                g
                            }
                        }
                    }
                    _ => NO_GROUP,
                };
                let user = self.hits.entry(user).or_default();
                user.rate = user.rate.max(rate);
                user.hits.push((record.millis, i as u16, group));
                if user.hits.len() >= COMPACT_AT.max(2 * user.compacted) {
                    compact(&mut user.hits);
                    user.compacted = user.hits.len();
                }
            }
        }
    }

    /// Moves the step events of each anonymous id to the user it belongs to.
    pub(crate) fn merge_aliases(&mut self, aliases: &Map<u32, u32>) {
        for (&anonymous, &user) in aliases {
            if let Some(hits) = self.hits.remove(&anonymous) {
                let into = self.hits.entry(user).or_default();
                into.hits.extend(hits.hits);
                into.rate = into.rate.max(hits.rate);
            }
        }
    }

    pub(crate) fn finish(self) -> FunnelReport {
        let n = self.funnel.steps.len();
        let mut reached = vec![0f64; n];
        let mut times = Vec::new();
        let mut breakdown: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for mut user in self.hits.into_values() {
            compact(&mut user.hits);
            let weight = 1.0 / f64::from(user.rate);
            let (depth, time, group) = best_attempt(&user.hits, n, self.window_ms);
            for r in reached.iter_mut().take(depth) {
                *r += weight;
            }
            if depth == n
                && let Some(t) = time
            {
                times.push(t);
            }
            if let Some(g) = group {
                let row = breakdown
                    .entry(self.groups[g as usize].clone())
                    .or_insert_with(|| vec![0.0; n]);
                for r in row.iter_mut().take(depth) {
                    *r += weight;
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
        let steps = step_reports(&self.funnel.steps, &reached);
        FunnelReport {
            name: self.funnel.name.to_string(),
            description: self.funnel.description.to_string(),
            window: self.funnel.window.to_string(),
            steps,
            converted: whole(reached[n - 1]),
            conversion: fratio(reached[n - 1], reached[0]),
            median_seconds_to_convert: median,
            breakdown: breakdown
                .into_iter()
                .map(|(g, row)| (g, row.into_iter().map(whole).collect()))
                .collect(),
        }
    }
}

/// Sorts a user's step events by time (a tie keeps the funnel order) and drops those
/// that cannot change the result: in a run of the same step with no other step
/// between, only the first counts for a later step (each step takes the earliest
/// match after the previous one) and only the last for the first step (a later start
/// sees the same events after it, with a window reaching further, and converts
/// faster).
fn compact(hits: &mut Vec<Hit>) {
    hits.sort_by_key(|h| (h.0, h.1));
    let mut out: Vec<Hit> = Vec::with_capacity(hits.len());
    for hit in hits.drain(..) {
        match out.last_mut() {
            Some(last) if last.1 == hit.1 && hit.1 == 0 => *last = hit,
            Some(last) if last.1 == hit.1 => {}
            _ => out.push(hit),
        }
    }
    *hits = out;
}

/// The report of each step from the weighted users who reached it (`reached[i]` for
/// step `i`).
pub(crate) fn step_reports(steps: &[FunnelStep], reached: &[f64]) -> Vec<FunnelStepReport> {
    steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let previous = if i == 0 { reached[0] } else { reached[i - 1] };
            FunnelStepReport {
                step: step_label(step),
                users: whole(reached[i]),
                conversion_from_previous: fratio(reached[i], previous),
                conversion_from_first: fratio(reached[i], reached[0]),
                dropped: whole(previous).saturating_sub(whole(reached[i])),
            }
        })
        .collect()
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
fn best_attempt(hits: &[Hit], n: usize, window: u64) -> (usize, Option<u64>, Option<u32>) {
    let mut best = (0usize, None::<u64>, None::<u32>);
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
            best = (depth, time, (start.2 != NO_GROUP).then_some(start.2));
        }
    }
    best
}

//! Product metrics computed from telemetry records (the JSONL lines written by
//! `telemetry-core`): active users, retention and churn, funnels, and the reliability
//! of instrumented functions. The `telemetry report` command is a thin layer on top.
//!
//! Records are read one at a time ([`Analyzer::add_line`]); memory grows with the
//! number of distinct users times the days they were active (plus, for funnels, the
//! funnel-step events of each user), not with the number of records. All days are
//! UTC. A user is `context.user_id`, or `context.anonymous_id` when there is none.
//! Malformed lines, unknown events and records without any id are counted and
//! reported ([`Input`]), never fatal.
//!
//! ```
//! use telemetry_analysis::{Analyzer, Options};
//!
//! let mut analyzer = Analyzer::new(Options::default());
//! analyzer.add_line(r#"{"format":1,"type":"event","id":"019ab3c2-5d1e-7f3a-9c4b-2e8d7f6a5b4c","timestamp":"2026-11-25T18:41:11.123Z","name":"app.opened","version":1,"properties":{},"context":{"app_name":"a","app_version":"1","anonymous_id":"u1","os":"linux","arch":"x86_64"}}"#);
//! analyzer.add_line("not json");
//! let report = analyzer.finish();
//! assert_eq!(report.active_users.as_ref().unwrap().series[0].dau, 1);
//! assert_eq!(report.input.malformed_lines, 1);
//! ```

mod active;
mod funnel;
mod reliability;
pub mod sketch;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use telemetry_core::Record;
use telemetry_core::catalog::{Catalog, Funnel};
use telemetry_core::record::RecordKind;

pub use active::{ActiveUsers, Churn, Cohort, DayActivity, GroupActivity, Retention};
pub use funnel::{FunnelReport, FunnelStepReport, step_matches};
pub use reliability::{FunctionReliability, Reliability};

/// Milliseconds in a UTC day.
const DAY_MS: u64 = 86_400_000;

/// What to compute.
#[derive(Debug, Clone)]
pub struct Options {
    /// Events that count a user as active; `None`: every event does.
    pub active_events: Option<BTreeSet<String>>,
    /// Split active users by this field: a context field (`os`, `app_version`,
    /// `app_name`, `arch`, or any of them as `context.os`) or an event property.
    pub by: Option<String>,
    /// Funnels to compute.
    pub funnels: Vec<Funnel>,
    /// Split each funnel by this property of its first step's event.
    pub funnel_breakdown: Option<String>,
    /// Events of the plan; records of other events are counted as unknown (and still
    /// used). `None`: no check.
    pub known_events: Option<BTreeSet<String>>,
    /// Length in days of the periods that churn compares (default 7).
    pub churn_period_days: u32,
    /// Largest N of the "day N" retention columns (default 30).
    pub max_retention_day: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            active_events: None,
            by: None,
            funnels: Vec::new(),
            funnel_breakdown: None,
            known_events: None,
            churn_period_days: 7,
            max_retention_day: 30,
        }
    }
}

impl Options {
    /// Everything a catalog defines: its funnels, its `active` events (every event
    /// when none is marked), and its event names for the unknown-event count.
    pub fn from_catalog(catalog: &Catalog) -> Options {
        let active: BTreeSet<String> = catalog
            .events
            .iter()
            .filter(|e| e.schema.active)
            .map(|e| e.schema.name.to_string())
            .collect();
        Options {
            active_events: (!active.is_empty()).then_some(active),
            funnels: catalog.funnels.clone(),
            known_events: Some(
                catalog
                    .events
                    .iter()
                    .map(|e| e.schema.name.to_string())
                    .collect(),
            ),
            ..Options::default()
        }
    }
}

/// How the input went: lines read and what was skipped or doubtful.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Input {
    /// Non-empty lines read.
    pub lines: u64,
    /// Records used.
    pub records: u64,
    /// Lines that are not records (skipped).
    pub malformed_lines: u64,
    /// Line numbers (1-based) of the first malformed lines, at most 10.
    pub malformed_examples: Vec<u64>,
    /// Records whose event is not in the catalog, per name (still used).
    pub unknown_events: BTreeMap<String, u64>,
    /// Records without `user_id` or `anonymous_id`: no user to count (skipped for user
    /// metrics, used for reliability).
    pub missing_user: u64,
    /// First and last day seen (UTC, `YYYY-MM-DD`).
    pub first_day: Option<String>,
    /// Last day seen.
    pub last_day: Option<String>,
}

/// Every metric computed.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What was read.
    pub input: Input,
    /// Which events counted as activity: `all` or a list.
    pub active_events: Vec<String>,
    /// DAU/WAU/MAU and stickiness; `None` without any user.
    pub active_users: Option<ActiveUsers>,
    /// Retention by first-seen-day cohort.
    pub retention: Option<Retention>,
    /// Churn per period.
    pub churn: Vec<Churn>,
    /// One report per funnel.
    pub funnels: Vec<FunnelReport>,
    /// Error rates and latencies of instrumented calls.
    pub reliability: Reliability,
}

/// Reads records and computes the [`Report`].
pub struct Analyzer {
    options: Options,
    input: Input,
    users: HashMap<String, u32>,
    /// Active days per group (`""` without `by`) per user.
    activity: BTreeMap<String, HashMap<u32, BTreeSet<u32>>>,
    funnels: Vec<funnel::FunnelState>,
    reliability: reliability::Collector,
    days: Option<(u32, u32)>,
}

impl Analyzer {
    /// An analyzer computing what `options` says.
    pub fn new(options: Options) -> Analyzer {
        let funnels = options
            .funnels
            .iter()
            .map(|f| funnel::FunnelState::new(f.clone()))
            .collect();
        Analyzer {
            options,
            input: Input::default(),
            users: HashMap::new(),
            activity: BTreeMap::new(),
            funnels,
            reliability: reliability::Collector::default(),
            days: None,
        }
    }

    /// Reads one JSONL line; blank lines are ignored, others that are not records are
    /// counted as malformed.
    pub fn add_line(&mut self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        self.input.lines += 1;
        match Record::from_json(line) {
            Ok(record) => self.add_record(&record),
            Err(_) => {
                self.input.malformed_lines += 1;
                if self.input.malformed_examples.len() < 10 {
                    self.input.malformed_examples.push(self.input.lines);
                }
            }
        }
    }

    /// Uses one record. The pipeline's own records (`"type":"stats"`) are not product
    /// events and are skipped.
    pub fn add_record(&mut self, record: &Record) {
        if record.kind != RecordKind::Event {
            return;
        }
        self.input.records += 1;
        if let Some(known) = &self.options.known_events
            && !known.contains(&record.name)
        {
            *self
                .input
                .unknown_events
                .entry(record.name.clone())
                .or_default() += 1;
        }
        let millis = record.timestamp.unix_millis();
        let day = (millis / DAY_MS) as u32;
        self.days = Some(match self.days {
            None => (day, day),
            Some((a, b)) => (a.min(day), b.max(day)),
        });
        self.reliability.add(record, day);
        let ctx = &record.context;
        let Some(id) = ctx.user_id.as_deref().or(ctx.anonymous_id.as_deref()) else {
            self.input.missing_user += 1;
            return;
        };
        let next = self.users.len() as u32;
        let user = *self.users.entry(id.to_owned()).or_insert(next);
        let counts = self
            .options
            .active_events
            .as_ref()
            .is_none_or(|a| a.contains(&record.name));
        if counts {
            let group = match &self.options.by {
                None => String::new(),
                Some(field) => field_value(record, field).unwrap_or_else(|| "(none)".into()),
            };
            self.activity
                .entry(group)
                .or_default()
                .entry(user)
                .or_default()
                .insert(day);
        }
        for state in &mut self.funnels {
            state.add(
                record,
                user,
                millis,
                self.options.funnel_breakdown.as_deref(),
            );
        }
    }

    /// Computes every metric.
    pub fn finish(self) -> Report {
        let mut input = self.input;
        if let Some((first, last)) = self.days {
            input.first_day = Some(date(first));
            input.last_day = Some(date(last));
        }
        let range = self.days;
        let active_users = range.and_then(|r| active::active_users(&self.activity, r));
        // Retention and churn on all users, whatever the grouping.
        let mut all: HashMap<u32, BTreeSet<u32>> = HashMap::new();
        for group in self.activity.values() {
            for (user, days) in group {
                all.entry(*user).or_default().extend(days);
            }
        }
        let retention =
            range.and_then(|r| active::retention(&all, r, self.options.max_retention_day));
        let churn = range
            .map(|r| active::churn(&all, r, self.options.churn_period_days.max(1)))
            .unwrap_or_default();
        Report {
            input,
            active_events: match &self.options.active_events {
                None => vec!["all".into()],
                Some(a) => a.iter().cloned().collect(),
            },
            active_users,
            retention,
            churn,
            funnels: self.funnels.into_iter().map(|f| f.finish()).collect(),
            reliability: self.reliability.finish(),
        }
    }
}

/// The value of a context field or property as a group label.
fn field_value(record: &Record, field: &str) -> Option<String> {
    let ctx = &record.context;
    let context_field = field.strip_prefix("context.").unwrap_or(field);
    match context_field {
        "os" => return Some(ctx.os.clone()),
        "arch" => return Some(ctx.arch.clone()),
        "app_name" => return Some(ctx.app_name.clone()),
        "app_version" => return Some(ctx.app_version.clone()),
        _ if field.starts_with("context.") => return None,
        _ => {}
    }
    let value = record.properties.get(field)?;
    Some(match value.as_str() {
        Some(s) => s.to_owned(),
        None => serde_json::to_string(value).ok()?,
    })
}

/// A day number (days since 1970-01-01) as `YYYY-MM-DD`.
pub fn date(day: u32) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::from(day) * 86_400);
    humantime::format_rfc3339_seconds(t).to_string()[..10].to_owned()
}

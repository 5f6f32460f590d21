//! A food-delivery marketplace, simulated, to show `telemetry-core` at work.
//!
//! A few hundred customers use the app for five weeks: they arrive over time, some
//! give up after a few days, and the others search, open menus, fill carts, try
//! coupons, sign in, pay (and sometimes fail to), get their food and rate it. A
//! `telemetry_core::ManualClock` moves through the simulated days and stamps the
//! events, so the records span the five weeks and the run takes seconds. Every step is a typed event from [`events`], sent with `telemetry_core::emit!`,
//! and the run produces what a product team gets from the library:
//!
//! - `events.jsonl`: the records, one JSON object per line, with personal data already
//!   hashed, redacted or dropped as each event type declares;
//! - `catalog.json`: the tracking plan, generated from the code (events, properties,
//!   owners, personal data handling, and every line that emits each event).
//!
//! [`run`] does all of it and returns a [`Summary`] computed by reading the records
//! back, the way an analyst would. Run it with `cargo run --example food_delivery`.

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use telemetry_core::catalog::Problem;
use telemetry_core::{EventSchema, Pii, Record, TelemetryEvent};

pub mod events;
mod sim;

use events::{
    CartItemAdded, CheckoutStarted, PaymentAttempted, PaymentCompleted, PaymentFailed,
    RestaurantViewed, SearchPerformed, UserSignedIn,
};
pub use sim::{Customer, DAYS, FIRST_DAY, customers};

/// Seed used by the example when none is given.
pub const DEFAULT_SEED: u64 = 42;

/// Number of simulated customers when none is given.
pub const DEFAULT_USERS: usize = 300;

/// Name of the records file written in the output folder.
pub const EVENTS_FILE: &str = "events.jsonl";

/// Name of the catalog file written in the output folder.
pub const CATALOG_FILE: &str = "catalog.json";

/// The ordering funnel: a session reaches a step when it emitted the step's event
/// after reaching every step before it.
pub fn funnel_events() -> [(&'static str, &'static EventSchema); 6] {
    [
        ("searched", SearchPerformed::schema()),
        ("viewed a menu", RestaurantViewed::schema()),
        ("added to cart", CartItemAdded::schema()),
        ("started checkout", CheckoutStarted::schema()),
        ("tried to pay", PaymentAttempted::schema()),
        ("paid", PaymentCompleted::schema()),
    ]
}

/// What a run produced, computed by reading `events.jsonl` back.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The records file.
    pub events_path: PathBuf,
    /// The catalog file.
    pub catalog_path: PathBuf,
    /// Seed of the simulation.
    pub seed: u64,
    /// Simulated customers.
    pub users: usize,
    /// Simulated days.
    pub days: u32,
    /// App sessions simulated.
    pub sessions: usize,
    /// Sessions that ended in a panic (caught at the top of the session).
    pub crashed_sessions: usize,
    /// Outcomes of the calls to the payment provider (`#[instrument_event]` on
    /// `charge`), read from the records' `call` object: `ok`, `panicked`, or
    /// `error: <kind>`, with the number of calls and their total duration.
    pub provider_calls: BTreeMap<String, CallStats>,
    /// Events handed to telemetry (from `telemetry_core::stats()`, over all sessions).
    pub emitted: u64,
    /// Events telemetry could not write (queue full or write error).
    pub lost: u64,
    /// Records read back from the file.
    pub records: usize,
    /// Number of records per event name.
    pub counts: BTreeMap<String, usize>,
    /// Sessions reaching each step of [`funnel_events`], in order.
    pub funnel: Vec<FunnelStep>,
    /// Payment attempts and failures per payment method.
    pub payments: Vec<MethodPayments>,
    /// Failed payments per failure reason.
    pub failures_by_reason: BTreeMap<String, usize>,
    /// One `user.signed_in` line of the file, as written, with a phone number given.
    pub sample_record: Option<String>,
    /// Events in the catalog.
    pub catalog_events: usize,
    /// `emit!` call sites in the catalog.
    pub call_sites: usize,
    /// Properties that carry personal data, with their handling.
    pub pii_properties: Vec<PiiProperty>,
    /// What `Catalog::validate` found.
    pub problems: Vec<Problem>,
}

/// One step of the ordering funnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelStep {
    /// What the customer did.
    pub label: &'static str,
    /// The event marking the step.
    pub event: String,
    /// Sessions that reached the step.
    pub sessions: usize,
}

/// Payment outcomes of one payment method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodPayments {
    /// The method, as written in records.
    pub method: String,
    /// `payment.attempted` records.
    pub attempts: usize,
    /// `payment.failed` records.
    pub failed: usize,
}

/// Calls of an instrumented function that ended one way.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallStats {
    /// Number of calls.
    pub calls: usize,
    /// Their summed duration, in milliseconds.
    pub total_ms: f64,
}

/// A property declared as personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiProperty {
    /// Event name.
    pub event: String,
    /// Property name.
    pub property: String,
    /// How it is handled.
    pub handling: Pii,
}

/// Simulates `users` customers for [`DAYS`] days with this `seed`, writing
/// `out_dir/events.jsonl` (replaced if it exists) and `out_dir/catalog.json`, and
/// returns what they contain.
///
/// Telemetry is started and stopped once per simulated app session, and `init` is
/// process-wide: nothing else in the process may run telemetry meanwhile, so run one
/// simulation at a time (tests take turns with a mutex).
///
/// Fails if the folder cannot be written or telemetry cannot start.
pub fn run(out_dir: &Path, seed: u64, users: usize) -> Result<Summary, Box<dyn Error>> {
    let context =
        |what: &str, path: &Path, e: io::Error| format!("cannot {what} `{}`: {e}", path.display());
    fs::create_dir_all(out_dir).map_err(|e| context("create the folder", out_dir, e))?;
    let events_path = out_dir.join(EVENTS_FILE);
    // The JSONL sink appends, so a previous run would be counted twice.
    match fs::remove_file(&events_path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(context("remove the old", &events_path, e).into());
        }
        _ => {}
    }

    let totals = sim::simulate(&events_path, seed, users)?;

    let catalog = telemetry_core::catalog();
    let catalog_path = out_dir.join(CATALOG_FILE);
    fs::write(&catalog_path, catalog.to_json()).map_err(|e| context("write", &catalog_path, e))?;

    let jsonl = match fs::read_to_string(&events_path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(), // no session ran
        Err(e) => return Err(context("read", &events_path, e).into()),
    };
    let mut summary = Summary {
        events_path,
        catalog_path,
        seed,
        users,
        days: DAYS,
        sessions: totals.sessions,
        crashed_sessions: totals.crashed,
        provider_calls: BTreeMap::new(),
        emitted: totals.emitted,
        lost: totals.lost,
        records: 0,
        counts: BTreeMap::new(),
        funnel: Vec::new(),
        payments: Vec::new(),
        failures_by_reason: BTreeMap::new(),
        sample_record: None,
        catalog_events: catalog.events.len(),
        call_sites: catalog.events.iter().map(|e| e.call_sites.len()).sum(),
        pii_properties: catalog
            .events
            .iter()
            .flat_map(|e| {
                e.schema
                    .properties
                    .iter()
                    .filter(|p| p.pii != Pii::None)
                    .map(|p| PiiProperty {
                        event: e.schema.name.to_string(),
                        property: p.name.to_string(),
                        handling: p.pii,
                    })
            })
            .collect(),
        problems: catalog.validate(),
    };
    summary.read_records(&jsonl)?;
    Ok(summary)
}

impl Summary {
    /// Counts, funnel and payments from the JSONL text.
    fn read_records(&mut self, jsonl: &str) -> Result<(), Box<dyn Error>> {
        let funnel = funnel_events();
        // Per session (from the record context): the funnel steps reached so far.
        let mut reached: HashMap<String, usize> = HashMap::new();
        let mut methods: BTreeMap<String, MethodPayments> = BTreeMap::new();
        let text = |record: &Record, property: &str| {
            record
                .properties
                .get(property)
                .and_then(|v| v.as_str())
                .unwrap_or("?")
                .to_owned()
        };
        for (number, line) in jsonl
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let record = Record::from_json(line).map_err(|e| {
                format!(
                    "{}:{}: not a record: {e}",
                    self.events_path.display(),
                    number + 1
                )
            })?;
            self.records += 1;
            *self.counts.entry(record.name.clone()).or_default() += 1;

            let session = record.context.session_id.clone().unwrap_or_default();
            let step = reached.entry(session).or_default();
            if let Some((_, schema)) = funnel.get(*step)
                && schema.name == record.name
            {
                *step += 1;
            }

            if let Some(call) = &record.call {
                let outcome = match &call.error_kind {
                    Some(kind) => format!("{}: {kind}", call.outcome),
                    None => call.outcome.to_string(),
                };
                let stats = self.provider_calls.entry(outcome).or_default();
                stats.calls += 1;
                stats.total_ms += call.duration_ms;
            }

            let attempted = record.name == PaymentAttempted::schema().name;
            if attempted || record.name == PaymentFailed::schema().name {
                let method = text(&record, "method");
                let payments = methods.entry(method.clone()).or_insert(MethodPayments {
                    method,
                    attempts: 0,
                    failed: 0,
                });
                if attempted {
                    payments.attempts += 1;
                } else {
                    payments.failed += 1;
                    *self
                        .failures_by_reason
                        .entry(text(&record, "reason"))
                        .or_default() += 1;
                }
            } else if record.name == UserSignedIn::schema().name
                && self.sample_record.is_none()
                && record.properties.get("phone").is_some()
            {
                self.sample_record = Some(line.to_owned());
            }
        }
        self.funnel = funnel
            .iter()
            .enumerate()
            .map(|(i, (label, schema))| FunnelStep {
                label,
                event: schema.name.to_string(),
                sessions: reached.values().filter(|&&r| r > i).count(),
            })
            .collect();
        self.payments = methods.into_values().collect();
        Ok(())
    }

    /// Number of records of an event.
    pub fn count(&self, event: &str) -> usize {
        self.counts.get(event).copied().unwrap_or(0)
    }
}

//! The catalog: every event type and every `emit!` call site linked into this binary.
//!
//! Each `#[derive(TelemetryEvent)]` and each `emit!` registers a static entry at compile
//! time (through `inventory`), so the catalog is produced from the code itself and can
//! be written to a file (the *tracking plan*) that teams review, lint and diff.
//!
//! One limit comes with link-time registration: a library crate that the binary never
//! references is not linked at all, so its events are absent. Reference it once, e.g.
//! `use shop_events as _;`, to bring them back.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

mod funnel;

pub use self::funnel::{FilterValue, Funnel, FunnelStep, StepFilter, parse_window};
#[doc(hidden)]
pub use self::funnel::{FunnelRegistration, StepRegistration};
pub use crate::naming::{check_event_name, check_property_name};
use crate::schema::{CallSite, EventSchema, Pii, PropertyType};

/// Version of the catalog file format written by [`Catalog::to_json`].
pub const CATALOG_FORMAT: u32 = 1;

/// Registered by `#[derive(TelemetryEvent)]`.
#[doc(hidden)]
pub struct EventRegistration {
    pub schema: fn() -> &'static EventSchema,
}

/// Registered by `emit!`.
#[doc(hidden)]
pub struct CallSiteRegistration {
    pub schema: fn() -> &'static EventSchema,
    pub call_site: CallSite,
}

inventory::collect!(EventRegistration);
inventory::collect!(CallSiteRegistration);

/// The tracking plan of a program: events with their call sites, sorted by name.
///
/// Get the running binary's catalog with [`catalog()`](crate::catalog()), or read a
/// catalog file with [`Catalog::from_json`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Catalog {
    /// Catalog file format version ([`CATALOG_FORMAT`]).
    pub format: u32,
    /// Every event, sorted by name (then by Rust type for duplicates).
    pub events: Vec<CatalogEvent>,
    /// Every funnel defined with `funnel!`, sorted by name. Absent from the file when
    /// there is none, so files written before funnels existed read back unchanged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub funnels: Vec<Funnel>,
}

/// One event of the catalog: its schema and where it is emitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CatalogEvent {
    /// The event's schema.
    #[serde(flatten)]
    pub schema: EventSchema,
    /// Every `emit!` of this event, sorted by file, line and column.
    pub call_sites: Vec<CallSite>,
}

/// Collects the catalog of the running binary.
///
/// Cheap enough to call at startup or in tests; it walks the registered entries each
/// time.
///
/// ```
/// use telemetry_core::TelemetryEvent;
///
/// /// The app finished starting.
/// #[derive(TelemetryEvent)]
/// #[telemetry(name = "app.started", owner = "platform")]
/// struct AppStarted;
///
/// let catalog = telemetry_core::catalog();
/// assert!(catalog.event("app.started").is_some());
/// ```
pub fn catalog() -> Catalog {
    let mut by_schema: BTreeMap<*const EventSchema, CatalogEvent> = BTreeMap::new();
    for reg in inventory::iter::<EventRegistration> {
        let schema = (reg.schema)();
        by_schema
            .entry(schema as *const _)
            .or_insert_with(|| CatalogEvent {
                schema: schema.clone(),
                call_sites: Vec::new(),
            });
    }
    for reg in inventory::iter::<CallSiteRegistration> {
        let schema = (reg.schema)();
        by_schema
            .entry(schema as *const _)
            .or_insert_with(|| CatalogEvent {
                schema: schema.clone(),
                call_sites: Vec::new(),
            })
            .call_sites
            .push(reg.call_site.clone());
    }
    let mut events: Vec<CatalogEvent> = by_schema.into_values().collect();
    for event in &mut events {
        event.call_sites.sort();
        event.call_sites.dedup();
    }
    events.sort_by(|a, b| {
        (&a.schema.name, &a.schema.rust_type).cmp(&(&b.schema.name, &b.schema.rust_type))
    });
    let mut funnels: Vec<Funnel> = inventory::iter::<FunnelRegistration>
        .into_iter()
        .map(Funnel::from_registration)
        .collect();
    funnels.sort_by(|a, b| a.name.cmp(&b.name));
    Catalog {
        format: CATALOG_FORMAT,
        events,
        funnels,
    }
}

impl Catalog {
    /// The event with this name, if any.
    pub fn event(&self, name: &str) -> Option<&CatalogEvent> {
        self.events.iter().find(|e| e.schema.name == name)
    }

    /// The funnel with this name, if any.
    pub fn funnel(&self, name: &str) -> Option<&Funnel> {
        self.funnels.iter().find(|f| f.name == name)
    }

    /// The catalog file: pretty JSON with a stable order (events by name, properties in
    /// declaration order, call sites by position) and a trailing newline, so that it
    /// diffs well in review.
    pub fn to_json(&self) -> String {
        let mut out = serde_json::to_string_pretty(self)
            .expect("a catalog holds only strings, numbers and booleans");
        out.push('\n');
        out
    }

    /// Reads a catalog file written by [`Catalog::to_json`].
    pub fn from_json(json: &str) -> Result<Catalog, CatalogError> {
        let catalog: Catalog = serde_json::from_str(json).map_err(CatalogError::Parse)?;
        if catalog.format != CATALOG_FORMAT {
            return Err(CatalogError::UnsupportedFormat(catalog.format));
        }
        Ok(catalog)
    }

    /// Checks the catalog as a whole: duplicate names (also clashes that differ only in
    /// case), names that break the naming rule, missing descriptions and owners, events
    /// that no `emit!` sends, and properties whose names suggest personal data (`email`,
    /// `phone`, `ip_address`, `full_name`, ...) without a declared `pii` handling, and
    /// funnels that cannot be computed: a step naming an event that is not in the
    /// catalog, a filter on a property the event does not have or with a value of the
    /// wrong type or not allowed, an invalid window or name, a missing description.
    /// Returns every problem found, errors first.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut by_lower: BTreeMap<String, Vec<&CatalogEvent>> = BTreeMap::new();
        for event in &self.events {
            by_lower
                .entry(event.schema.name.to_lowercase())
                .or_default()
                .push(event);
        }
        for group in by_lower.values().filter(|g| g.len() > 1) {
            let types: Vec<String> = group
                .iter()
                .map(|e| format!("`{}` ({})", e.schema.name, e.schema.rust_type))
                .collect();
            let exact = group.iter().all(|e| e.schema.name == group[0].schema.name);
            let (kind, what) = if exact {
                (ProblemKind::DuplicateName, "is defined more than once")
            } else {
                (ProblemKind::CaseClash, "differs only in letter case")
            };
            problems.push(Problem {
                kind,
                event: group[0].schema.name.to_string(),
                message: format!(
                    "event name {what}: {}; give each event type its own name",
                    types.join(", ")
                ),
            });
        }
        for event in &self.events {
            let s = &event.schema;
            let mut report = |kind, message: String| {
                problems.push(Problem {
                    kind,
                    event: s.name.to_string(),
                    message,
                })
            };
            if let Err(why) = check_event_name(&s.name) {
                report(ProblemKind::InvalidName, why);
            }
            for property in s.properties.iter() {
                if let Err(why) = check_property_name(&property.name) {
                    report(ProblemKind::InvalidName, format!("in `{}`: {why}", s.name));
                }
            }
            if s.description.trim().is_empty() {
                report(
                    ProblemKind::MissingDescription,
                    format!(
                        "`{}` has no description; add a doc comment to {}",
                        s.name, s.rust_type
                    ),
                );
            }
            if s.owner.trim().is_empty() {
                report(
                    ProblemKind::MissingOwner,
                    format!(
                        "`{}` has no owner; add `owner = \"team\"` to its #[telemetry(...)] attribute",
                        s.name
                    ),
                );
            }
            for property in s.properties.iter() {
                if property.pii == Pii::None && looks_personal(&property.name) {
                    report(
                        ProblemKind::UndeclaredPii,
                        format!(
                            "`{}.{}` looks like personal data but declares no handling; add `#[telemetry(pii = \"hash\")]` (or \"redact\" / \"drop\") to the field, or rename it if it is not personal",
                            s.name, property.name
                        ),
                    );
                }
            }
            if event.call_sites.is_empty() {
                report(
                    ProblemKind::NeverEmitted,
                    format!(
                        "`{}` is never sent: no `emit!` call site names {}; emit it or delete it",
                        s.name, s.rust_type
                    ),
                );
            }
        }
        self.validate_funnels(&mut problems);
        problems.sort_by_key(|p| (p.severity(), p.event.clone()));
        problems
    }

    fn validate_funnels(&self, problems: &mut Vec<Problem>) {
        for (i, funnel) in self.funnels.iter().enumerate() {
            let mut report = |message: String| {
                problems.push(Problem {
                    kind: ProblemKind::InvalidFunnel,
                    event: funnel.name.to_string(),
                    message,
                })
            };
            let name = &funnel.name;
            if self.funnels[..i].iter().any(|f| f.name == *name) {
                report(format!(
                    "funnel `{name}` is defined more than once; give each funnel its own name"
                ));
            }
            if let Err(why) = check_property_name(name) {
                report(format!("funnel name: {why}"));
            }
            if funnel.description.trim().is_empty() {
                report(format!(
                    "funnel `{name}` has no description; add a doc comment to its `funnel!`"
                ));
            }
            if let Err(why) = parse_window(&funnel.window) {
                report(format!("funnel `{name}`: {why}"));
            }
            if funnel.steps.len() < 2 {
                report(format!(
                    "funnel `{name}` has {} step(s); a funnel needs at least two",
                    funnel.steps.len()
                ));
            }
            for (n, step) in funnel.steps.iter().enumerate() {
                let Some(event) = self.event(&step.event) else {
                    report(format!(
                        "funnel `{name}` step {} names `{}`, which is not in the catalog; define the event or remove the step",
                        n + 1,
                        step.event
                    ));
                    continue;
                };
                for filter in &step.filters {
                    let Some(property) = event.schema.property(&filter.property) else {
                        let known: Vec<&str> =
                            event.schema.properties.iter().map(|p| &*p.name).collect();
                        report(format!(
                            "funnel `{name}` step {} filters on `{}.{}`, which has no such property (properties: {})",
                            n + 1,
                            step.event,
                            filter.property,
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        ));
                        continue;
                    };
                    let fits = match (&filter.equals, property.ty) {
                        (FilterValue::Integer(_), PropertyType::Number) => true,
                        (value, ty) => value.property_type() == ty,
                    };
                    if !fits {
                        report(format!(
                            "funnel `{name}` step {} compares `{}.{}` ({}) with {} ({})",
                            n + 1,
                            step.event,
                            filter.property,
                            property.ty.as_str(),
                            filter.equals,
                            filter.equals.property_type().as_str()
                        ));
                    } else if let FilterValue::String(value) = &filter.equals
                        && !property.values.is_empty()
                        && !property.values.iter().any(|v| v == value)
                    {
                        let allowed: Vec<&str> = property.values.iter().map(|v| &**v).collect();
                        report(format!(
                            "funnel `{name}` step {} compares `{}.{}` with \"{value}\", which is not one of its values ({})",
                            n + 1,
                            step.event,
                            filter.property,
                            allowed.join(", ")
                        ));
                    } else if property.pii != Pii::None {
                        report(format!(
                            "funnel `{name}` step {} filters on `{}.{}`, which is personal data ({}): records never hold the raw value; filter on another property",
                            n + 1,
                            step.event,
                            filter.property,
                            property.pii.as_str()
                        ));
                    }
                }
            }
        }
    }

    /// Number of properties, over all events, that carry personal data.
    pub fn pii_property_count(&self) -> usize {
        self.events
            .iter()
            .flat_map(|e| e.schema.properties.iter())
            .filter(|p| p.pii != Pii::None)
            .count()
    }
}

/// Switches every event type named `name` off (`false`) or back on (`true`) in this
/// process, e.g. from a remote configuration; returns how many event types it found (0
/// for an unknown name). A switched-off event costs one more relaxed load to emit and is
/// counted in `Stats::dropped_disabled`; `testing::capture` still sees it.
///
/// ```
/// use telemetry_core::TelemetryEvent;
///
/// /// A search suggestion was shown.
/// #[derive(TelemetryEvent)]
/// #[telemetry(name = "search.suggestion_shown")]
/// struct SuggestionShown;
///
/// assert_eq!(telemetry_core::set_event_enabled("search.suggestion_shown", false), 1);
/// assert!(!SuggestionShown::schema().is_enabled());
/// assert_eq!(telemetry_core::set_event_enabled("no.such_event", false), 0);
/// telemetry_core::set_event_enabled("search.suggestion_shown", true);
/// ```
pub fn set_event_enabled(name: &str, enabled: bool) -> usize {
    let mut found = 0;
    for reg in inventory::iter::<EventRegistration> {
        let schema = (reg.schema)();
        if schema.name == name {
            schema.switch.set(enabled);
            found += 1;
        }
    }
    found
}

/// Environment variable read by [`dump_if_requested`]: the path to write the catalog
/// file to (`-` for standard output).
pub const DUMP_CATALOG_ENV: &str = "TELEMETRY_DUMP_CATALOG";

/// Writes the catalog file and exits the process when [`DUMP_CATALOG_ENV`] is set; does
/// nothing otherwise.
///
/// Put it first in `main`, so that any build of the program can hand its tracking plan
/// to the `telemetry` command without running anything else:
///
/// ```no_run
/// // The first line of `main`:
/// telemetry_core::catalog::dump_if_requested();
/// // ... the program as usual
/// ```
///
/// ```sh
/// TELEMETRY_DUMP_CATALOG=catalog.json cargo run   # writes catalog.json and exits 0
/// TELEMETRY_DUMP_CATALOG=- cargo run > plan.json  # or to standard output
/// ```
///
/// Exits with 0 after writing, or with 2 and a message naming the path when the file
/// cannot be written.
pub fn dump_if_requested() {
    let Some(target) = std::env::var_os(DUMP_CATALOG_ENV) else {
        return;
    };
    match write_catalog_to(std::path::Path::new(&target)) {
        Ok(()) => std::process::exit(0),
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2)
        }
    }
}

/// Writes this binary's catalog to `path` (`-`: standard output), creating parent
/// directories; the error names the path and says what to do.
fn write_catalog_to(path: &std::path::Path) -> Result<(), String> {
    use std::io::Write as _;
    let json = catalog().to_json();
    if path.as_os_str() == "-" {
        return std::io::stdout()
            .lock()
            .write_all(json.as_bytes())
            .map_err(|e| format!("cannot write the catalog to standard output: {e}"));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            format!(
                "cannot create `{}` for the catalog ({e}); set {DUMP_CATALOG_ENV} to a writable path",
                parent.display()
            )
        })?;
    }
    std::fs::write(path, json).map_err(|e| {
        format!(
            "cannot write the catalog to `{}` ({e}); set {DUMP_CATALOG_ENV} to a writable path",
            path.display()
        )
    })
}

/// Whether a property name suggests personal data: the rule behind the
/// `undeclared-pii` problem of [`Catalog::validate`], for tools that build their own
/// checks on it.
///
/// ```
/// use telemetry_core::catalog::looks_like_personal_data;
/// assert!(looks_like_personal_data("user_email"));
/// assert!(!looks_like_personal_data("restaurant_name"));
/// ```
pub fn looks_like_personal_data(property: &str) -> bool {
    looks_personal(property)
}

/// A problem found by [`Catalog::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// Name of the event concerned.
    pub event: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl Problem {
    /// How serious the problem is.
    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}",
            self.severity(),
            self.kind.id(),
            self.message
        )
    }
}

/// Kinds of [`Problem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// Two event types share a name.
    DuplicateName,
    /// Two event names differ only in letter case.
    CaseClash,
    /// The name breaks the `object.action` rule.
    InvalidName,
    /// The event has no description.
    MissingDescription,
    /// The event has no owner.
    MissingOwner,
    /// No `emit!` sends the event.
    NeverEmitted,
    /// A property whose name suggests personal data declares no `pii` handling.
    UndeclaredPii,
    /// A funnel cannot be computed: unknown event, bad filter, window or name.
    InvalidFunnel,
}

impl ProblemKind {
    /// Stable identifier, e.g. `duplicate-name`.
    pub const fn id(self) -> &'static str {
        match self {
            ProblemKind::DuplicateName => "duplicate-name",
            ProblemKind::CaseClash => "case-clash",
            ProblemKind::InvalidName => "invalid-name",
            ProblemKind::MissingDescription => "missing-description",
            ProblemKind::MissingOwner => "missing-owner",
            ProblemKind::NeverEmitted => "never-emitted",
            ProblemKind::UndeclaredPii => "undeclared-pii",
            ProblemKind::InvalidFunnel => "invalid-funnel",
        }
    }

    /// Errors make a catalog unusable for analysis; warnings need a decision.
    pub const fn severity(self) -> Severity {
        match self {
            ProblemKind::DuplicateName
            | ProblemKind::CaseClash
            | ProblemKind::InvalidName
            | ProblemKind::MissingDescription
            | ProblemKind::InvalidFunnel => Severity::Error,
            ProblemKind::MissingOwner | ProblemKind::NeverEmitted | ProblemKind::UndeclaredPii => {
                Severity::Warning
            }
        }
    }
}

/// Severity of a [`Problem`]; errors sort first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Must be fixed.
    Error,
    /// Should be looked at.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Words that, as a `_`-separated part of a property name, suggest personal data.
const PERSONAL_WORDS: &[&str] = &[
    "email",
    "mail",
    "phone",
    "mobile",
    "msisdn",
    "address",
    "street",
    "postcode",
    "zipcode",
    "zip",
    "ip",
    "lat",
    "latitude",
    "lon",
    "lng",
    "longitude",
    "ssn",
    "passport",
    "dob",
    "birthday",
    "birthdate",
    "surname",
    "username",
    "password",
    "iban",
    "card_number",
];

/// Names that suggest a person's name (`restaurant_name` does not).
const PERSONAL_NAMES: &[&str] = &[
    "name",
    "first_name",
    "last_name",
    "full_name",
    "given_name",
    "family_name",
    "user_name",
    "display_name",
    "customer_name",
    "card_number",
];

/// Whether a property name suggests personal data (the `undeclared-pii` check).
fn looks_personal(property: &str) -> bool {
    PERSONAL_NAMES.contains(&property)
        || PERSONAL_NAMES
            .iter()
            .any(|n| n.contains('_') && property.contains(n))
        || property
            .split('_')
            .any(|word| PERSONAL_WORDS.contains(&word))
}

/// Why a catalog file could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum CatalogError {
    /// Not valid catalog JSON.
    Parse(serde_json::Error),
    /// Written by a newer (or unknown) version of the format.
    UnsupportedFormat(u32),
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatalogError::Parse(e) => write!(
                f,
                "not a valid catalog file ({e}); regenerate it from the program with `telemetry_core::catalog().to_json()`"
            ),
            CatalogError::UnsupportedFormat(v) => write!(
                f,
                "catalog format {v} is not supported (this version reads format {CATALOG_FORMAT}); upgrade telemetry-core"
            ),
        }
    }
}

impl std::error::Error for CatalogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CatalogError::Parse(e) => Some(e),
            CatalogError::UnsupportedFormat(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_looking_names() {
        for personal in [
            "email",
            "user_email",
            "phone",
            "ip_address",
            "ip",
            "full_name",
            "name",
            "home_lat",
            "customer_name_raw",
        ] {
            assert!(looks_personal(personal), "{personal}");
        }
        for not in [
            "restaurant_name",
            "dish_id",
            "shipping_method",
            "lap_time",
            "zipped",
            "tip_cents",
            "iphone_model",
        ] {
            assert!(!looks_personal(not), "{not}");
        }
    }

    #[test]
    fn dump_writes_the_catalog_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/catalog.json");
        write_catalog_to(&path).unwrap();
        let back = Catalog::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back, catalog());
        let err = write_catalog_to(dir.path()).unwrap_err();
        assert!(err.contains(DUMP_CATALOG_ENV), "{err}");
    }

    #[test]
    fn rejects_unknown_format() {
        let err = Catalog::from_json(r#"{"format": 99, "events": []}"#).unwrap_err();
        assert!(err.to_string().contains("format 99"), "{err}");
        let err = Catalog::from_json("{").unwrap_err();
        assert!(
            err.to_string().contains("not a valid catalog file"),
            "{err}"
        );
    }
}

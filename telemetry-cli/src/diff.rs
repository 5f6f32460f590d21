//! `telemetry catalog diff`: what changed between two catalogs, and whether it breaks
//! the people and tools reading the data.
//!
//! Classification follows SchemaVer (MODEL-REVISION-ADDITION): a change after which
//! historical records, or the queries written against them, no longer fit the schema
//! is *breaking* (removing an event or property, changing a type, optional to required,
//! narrowing allowed values, changing personal data handling); one that every old
//! record still fits is *non-breaking* (adding an event, an optional property or an
//! allowed value, widening, documentation). A breaking change to an event must bump its
//! `version`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use telemetry_core::catalog::{Catalog, CatalogEvent};
use telemetry_core::{EventSchema, PropertySchema};

use crate::input::{Failure, print, read_catalog};
use crate::style::{self, paint};

/// Arguments of `telemetry catalog diff`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The catalog before the change (e.g. from the main branch).
    old: PathBuf,
    /// The catalog after the change.
    new: PathBuf,
    /// Output format; `markdown` is meant for pull-request comments.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Exit with 1 on any breaking change, even with a version bump.
    #[arg(long)]
    deny_breaking: bool,
}

/// Output formats of the diff.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DiffFormat {
    Text,
    Markdown,
    Json,
}

/// Whether a change breaks readers of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Impact {
    /// Old records or queries no longer fit.
    Breaking,
    /// Every old record still fits.
    NonBreaking,
}

/// One change.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Change {
    /// Kind of change, e.g. `property-removed`.
    pub(crate) kind: &'static str,
    /// Breaking or not.
    pub(crate) impact: Impact,
    /// Property concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) property: Option<String>,
    /// What changed and why it is (not) breaking.
    pub(crate) detail: String,
}

/// Every change to one event, and the verdict on its version.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EventDiff {
    /// Event name.
    pub(crate) event: String,
    /// `added`, `removed` or `changed`.
    pub(crate) status: &'static str,
    /// Version in the old catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) old_version: Option<u32>,
    /// Version in the new catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) new_version: Option<u32>,
    /// Whether any change is breaking.
    pub(crate) breaking: bool,
    /// An error about the version (breaking change without a bump, version lowered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) version_error: Option<String>,
    /// The changes, breaking first.
    pub(crate) changes: Vec<Change>,
}

/// Compares two catalogs by event name.
pub(crate) fn diff(old: &Catalog, new: &Catalog) -> Vec<EventDiff> {
    let olds: BTreeMap<&str, &CatalogEvent> =
        old.events.iter().map(|e| (&*e.schema.name, e)).collect();
    let news: BTreeMap<&str, &CatalogEvent> =
        new.events.iter().map(|e| (&*e.schema.name, e)).collect();
    let mut names: Vec<&str> = olds.keys().chain(news.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        let d = match (olds.get(name), news.get(name)) {
            (Some(o), None) => {
                let renamed = new
                    .events
                    .iter()
                    .find(|n| n.schema.rust_type == o.schema.rust_type && !olds.contains_key(&*n.schema.name))
                    .map(|n| format!(" (the same Rust type now sends `{}`: a rename splits the event's history)", n.schema.name))
                    .unwrap_or_default();
                EventDiff {
                    event: name.into(),
                    status: "removed",
                    old_version: Some(o.schema.version),
                    new_version: None,
                    breaking: true,
                    version_error: None,
                    changes: vec![Change {
                        kind: "event-removed",
                        impact: Impact::Breaking,
                        property: None,
                        detail: format!(
                            "event removed: dashboards and queries that use it stop receiving data{renamed}"
                        ),
                    }],
                }
            }
            (None, Some(n)) => EventDiff {
                event: name.into(),
                status: "added",
                old_version: None,
                new_version: Some(n.schema.version),
                breaking: false,
                version_error: None,
                changes: vec![Change {
                    kind: "event-added",
                    impact: Impact::NonBreaking,
                    property: None,
                    detail: format!("event added ({} properties)", n.schema.properties.len()),
                }],
            },
            (Some(o), Some(n)) => {
                let mut changes = event_changes(o, n);
                if changes.is_empty() {
                    continue;
                }
                changes.sort_by_key(|c| c.impact);
                let breaking = changes.iter().any(|c| c.impact == Impact::Breaking);
                let (ov, nv) = (o.schema.version, n.schema.version);
                let version_error = if nv < ov {
                    Some(format!(
                        "version went down from {ov} to {nv}; versions only go up"
                    ))
                } else if breaking && nv == ov {
                    Some(format!(
                        "breaking change without a version bump; set `version = {}` on {}",
                        ov + 1,
                        n.schema.rust_type
                    ))
                } else {
                    None
                };
                EventDiff {
                    event: name.into(),
                    status: "changed",
                    old_version: Some(ov),
                    new_version: Some(nv),
                    breaking,
                    version_error,
                    changes,
                }
            }
            (None, None) => unreachable!("names come from either catalog"),
        };
        out.push(d);
    }
    out
}

/// What changed in one funnel definition. A funnel is a metric, not data: changing
/// it breaks no record, but its numbers stop being comparable with earlier reports.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FunnelDiff {
    /// Funnel name.
    pub(crate) funnel: String,
    /// `added`, `removed` or `changed`.
    pub(crate) status: &'static str,
    /// What changed, one line each.
    pub(crate) changes: Vec<String>,
}

/// `event` or `event where p = v && q = w`.
fn step_text(step: &telemetry_core::catalog::FunnelStep) -> String {
    let mut s = format!("`{}`", step.event);
    for (i, f) in step.filters.iter().enumerate() {
        s.push_str(if i == 0 { " where " } else { " && " });
        s.push_str(&format!("{} = {}", f.property, f.equals));
    }
    s
}

fn steps_text(f: &telemetry_core::catalog::Funnel) -> String {
    f.steps
        .iter()
        .map(step_text)
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// Compares the funnels of two catalogs by name: added, removed, and changed steps,
/// window, owner or description.
pub(crate) fn funnel_diff(old: &Catalog, new: &Catalog) -> Vec<FunnelDiff> {
    let olds: BTreeMap<&str, _> = old.funnels.iter().map(|f| (&*f.name, f)).collect();
    let news: BTreeMap<&str, _> = new.funnels.iter().map(|f| (&*f.name, f)).collect();
    let mut names: Vec<&str> = olds.keys().chain(news.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        let (status, changes) = match (olds.get(name), news.get(name)) {
            (Some(o), None) => (
                "removed",
                vec![format!("funnel removed (was {})", steps_text(o))],
            ),
            (None, Some(n)) => (
                "added",
                vec![format!(
                    "funnel added: {} within {}",
                    steps_text(n),
                    n.window
                )],
            ),
            (Some(o), Some(n)) => {
                let mut changes = Vec::new();
                let (a, b) = (steps_text(o), steps_text(n));
                if a != b {
                    changes.push(format!(
                        "steps changed: {a} => {b}; conversion numbers are not comparable with earlier reports"
                    ));
                }
                if o.window != n.window {
                    changes.push(format!(
                        "window changed from {} to {}; conversion numbers are not comparable with earlier reports",
                        o.window, n.window
                    ));
                }
                if o.owner != n.owner {
                    changes.push(format!("owner changed from `{}` to `{}`", o.owner, n.owner));
                }
                if o.description != n.description {
                    changes.push("description changed".to_owned());
                }
                if changes.is_empty() {
                    continue;
                }
                ("changed", changes)
            }
            (None, None) => unreachable!("names come from either catalog"),
        };
        out.push(FunnelDiff {
            funnel: name.to_owned(),
            status,
            changes,
        });
    }
    out
}

fn funnels_text(funnels: &[FunnelDiff]) -> String {
    let mut out = String::new();
    for f in funnels {
        out.push_str(&format!(
            "\nfunnel {} ({})\n",
            paint(style::NAME, &f.funnel),
            f.status
        ));
        for c in &f.changes {
            out.push_str(&format!("  {c}\n"));
        }
    }
    out
}

fn funnels_markdown(funnels: &[FunnelDiff]) -> String {
    let mut out = String::from("\n### Funnels\n\n| funnel | status | changes |\n|---|---|---|\n");
    for f in funnels {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            f.funnel,
            f.status,
            md_escape(&f.changes.join("; "))
        ));
    }
    out
}

fn change(kind: &'static str, impact: Impact, property: Option<&str>, detail: String) -> Change {
    Change {
        kind,
        impact,
        property: property.map(str::to_string),
        detail,
    }
}

/// Changes between two versions of one event.
fn event_changes(o: &CatalogEvent, n: &CatalogEvent) -> Vec<Change> {
    use Impact::*;
    let (os, ns): (&EventSchema, &EventSchema) = (&o.schema, &n.schema);
    let mut out = Vec::new();
    for p in os.properties.iter() {
        match ns.property(&p.name) {
            None => {
                // A new property of the same type and handling is probably a rename.
                let renamed = ns
                    .properties
                    .iter()
                    .find(|q| os.property(&q.name).is_none() && q.ty == p.ty && q.pii == p.pii)
                    .map(|q| {
                        format!(
                            " (renamed to `{}`? a rename splits the property's history)",
                            q.name
                        )
                    })
                    .unwrap_or_default();
                out.push(change("property-removed", Breaking, Some(&p.name), format!("property `{}` removed: old records have it, queries that read it break{renamed}", p.name)));
            }
            Some(q) => property_changes(p, q, &mut out),
        }
    }
    for q in ns
        .properties
        .iter()
        .filter(|q| os.property(&q.name).is_none())
    {
        if q.optional {
            out.push(change(
                "property-added",
                NonBreaking,
                Some(&q.name),
                format!("optional property `{}` added ({})", q.name, q.ty.as_str()),
            ));
        } else {
            out.push(change("property-added", Breaking, Some(&q.name), format!("required property `{}` added ({}): old records lack it; make it optional (`Option<_>`) to keep old records valid", q.name, q.ty.as_str())));
        }
    }
    for (kind, what, a, b) in [
        (
            "description-changed",
            "description",
            &os.description,
            &ns.description,
        ),
        ("owner-changed", "owner", &os.owner, &ns.owner),
        ("category-changed", "category", &os.category, &ns.category),
        (
            "rust-type-changed",
            "Rust type",
            &os.rust_type,
            &ns.rust_type,
        ),
    ] {
        if a != b {
            let detail = if kind == "description-changed" {
                "description changed".to_string()
            } else {
                format!("{what} changed: `{a}` -> `{b}`")
            };
            out.push(change(kind, NonBreaking, None, detail));
        }
    }
    if os.version != ns.version {
        out.push(change(
            "version-changed",
            NonBreaking,
            None,
            format!("version {} -> {}", os.version, ns.version),
        ));
    }
    match (o.call_sites.is_empty(), n.call_sites.is_empty()) {
        (false, true) => out.push(change(
            "no-longer-emitted",
            NonBreaking,
            None,
            "no `emit!` sends the event any more: no new data will arrive".into(),
        )),
        (true, false) => out.push(change(
            "now-emitted",
            NonBreaking,
            None,
            "the event is now sent".into(),
        )),
        _ => {}
    }
    out
}

fn property_changes(p: &PropertySchema, q: &PropertySchema, out: &mut Vec<Change>) {
    use Impact::*;
    let name = Some(&*p.name);
    if p.ty != q.ty {
        out.push(change(
            "type-changed",
            Breaking,
            name,
            format!(
                "property `{}` type changed: {} -> {}",
                p.name,
                p.ty.as_str(),
                q.ty.as_str()
            ),
        ));
    }
    match (p.optional, q.optional) {
        (true, false) => out.push(change("now-required", Breaking, name, format!("property `{}` changed from optional to required: old records without it no longer fit", p.name))),
        (false, true) => out.push(change("now-optional", NonBreaking, name, format!("property `{}` changed from required to optional", p.name))),
        _ => {}
    }
    if p.pii != q.pii {
        out.push(change("pii-changed", Breaking, name, format!("property `{}` personal data handling changed: {} -> {}; recorded values change form (joins across the change break): review with your privacy team", p.name, p.pii.as_str(), q.pii.as_str())));
    }
    match (p.values.is_empty(), q.values.is_empty()) {
        (true, true) => {}
        (true, false) => out.push(change(
            "values-restricted",
            Breaking,
            name,
            format!(
                "property `{}` now only allows {}: values that were valid are not any more",
                p.name,
                list(&q.values)
            ),
        )),
        (false, true) => out.push(change(
            "values-unrestricted",
            NonBreaking,
            name,
            format!(
                "property `{}` no longer restricts its values (was {})",
                p.name,
                list(&p.values)
            ),
        )),
        (false, false) => {
            let removed: Vec<_> = p
                .values
                .iter()
                .filter(|v| !q.values.contains(v))
                .cloned()
                .collect();
            let added: Vec<_> = q
                .values
                .iter()
                .filter(|v| !p.values.contains(v))
                .cloned()
                .collect();
            if !removed.is_empty() {
                out.push(change(
                    "values-removed",
                    Breaking,
                    name,
                    format!("property `{}` no longer allows {}", p.name, list(&removed)),
                ));
            }
            if !added.is_empty() {
                out.push(change(
                    "values-added",
                    NonBreaking,
                    name,
                    format!("property `{}` now also allows {}", p.name, list(&added)),
                ));
            }
        }
    }
    if p.description != q.description {
        out.push(change(
            "description-changed",
            NonBreaking,
            name,
            format!("property `{}` description changed", p.name),
        ));
    }
}

fn list<S: AsRef<str>>(values: &[S]) -> String {
    values
        .iter()
        .map(|v| format!("`{}`", v.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `telemetry catalog diff`.
pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let old = read_catalog(&args.old)?;
    let new = read_catalog(&args.new)?;
    let diffs = diff(&old, &new);
    let funnels = funnel_diff(&old, &new);
    let (o, n) = (
        args.old.display().to_string(),
        args.new.display().to_string(),
    );
    print(&match args.format {
        DiffFormat::Text if funnels.is_empty() => render_text(&o, &n, &diffs),
        DiffFormat::Text => {
            let mut text = render_text(&o, &n, &diffs);
            if diffs.is_empty() {
                text = text.replace("no changes", "no event changes");
                text.push_str(&funnels_text(&funnels));
            } else {
                // Before the summary line.
                let at = text.trim_end().rfind('\n').unwrap_or(text.len());
                text.insert_str(at, &funnels_text(&funnels));
            }
            text
        }
        DiffFormat::Markdown if funnels.is_empty() => render_markdown(&o, &n, &diffs),
        DiffFormat::Markdown => render_markdown(&o, &n, &diffs) + &funnels_markdown(&funnels),
        DiffFormat::Json => render_json(&o, &n, &diffs, &funnels),
    });
    let version_errors = diffs.iter().any(|d| d.version_error.is_some());
    let breaking = diffs.iter().any(|d| d.breaking);
    Ok(if version_errors || (args.deny_breaking && breaking) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn summary(diffs: &[EventDiff]) -> String {
    let count = |s: &str| diffs.iter().filter(|d| d.status == s).count();
    let breaking: usize = diffs
        .iter()
        .flat_map(|d| &d.changes)
        .filter(|c| c.impact == Impact::Breaking)
        .count();
    let errors = diffs.iter().filter(|d| d.version_error.is_some()).count();
    format!(
        "{} added, {} removed, {} changed events; {breaking} breaking changes; {errors} version errors",
        count("added"),
        count("removed"),
        count("changed")
    )
}

fn versions(d: &EventDiff) -> String {
    match (d.old_version, d.new_version) {
        (Some(a), Some(b)) if a != b => format!("v{a} -> v{b}"),
        (Some(a), _) | (None, Some(a)) => format!("v{a}"),
        (None, None) => String::new(),
    }
}

/// The text report.
pub(crate) fn render_text(old: &str, new: &str, diffs: &[EventDiff]) -> String {
    let mut out = format!("{old} -> {new}\n");
    if diffs.is_empty() {
        out.push_str(&paint(style::OK, "no changes\n"));
        return out;
    }
    for d in diffs {
        out.push_str(&format!(
            "\n{} {} ({})\n",
            paint(style::NAME, &d.event),
            versions(d),
            d.status
        ));
        if let Some(e) = &d.version_error {
            out.push_str(&format!("  {}: {e}\n", paint(style::ERROR, "error")));
        }
        for c in &d.changes {
            let label = match c.impact {
                Impact::Breaking => paint(style::WARNING, format_args!("{:<12}", "breaking")),
                Impact::NonBreaking => paint(style::OK, format_args!("{:<12}", "non-breaking")),
            };
            out.push_str(&format!("  {label}  {}\n", c.detail));
        }
    }
    out.push_str(&format!("\n{}\n", summary(diffs)));
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown report, for pull requests.
pub(crate) fn render_markdown(old: &str, new: &str, diffs: &[EventDiff]) -> String {
    let mut out = format!(
        "## Tracking plan changes\n\n`{old}` → `{new}`: {}\n",
        summary(diffs)
    );
    if diffs.is_empty() {
        out.push_str("\nNo changes.\n");
        return out;
    }
    let errors: Vec<&EventDiff> = diffs.iter().filter(|d| d.version_error.is_some()).collect();
    if !errors.is_empty() {
        out.push_str("\n> [!CAUTION]\n");
        for d in errors {
            out.push_str(&format!(
                "> **`{}`**: {}\n",
                d.event,
                md_escape(d.version_error.as_deref().unwrap_or_default())
            ));
        }
    }
    for d in diffs {
        let icon = if d.breaking { "⚠️ " } else { "" };
        out.push_str(&format!("\n### {icon}`{}` {} ({})\n\n| impact | change | property | details |\n|---|---|---|---|\n", d.event, versions(d), d.status));
        for c in &d.changes {
            let impact = match c.impact {
                Impact::Breaking => "**breaking**",
                Impact::NonBreaking => "non-breaking",
            };
            let prop = c
                .property
                .as_deref()
                .map(|p| format!("`{p}`"))
                .unwrap_or_default();
            out.push_str(&format!(
                "| {impact} | {} | {prop} | {} |\n",
                c.kind,
                md_escape(&c.detail)
            ));
        }
    }
    out
}

/// The JSON report.
pub(crate) fn render_json(
    old: &str,
    new: &str,
    diffs: &[EventDiff],
    funnels: &[FunnelDiff],
) -> String {
    let breaking = diffs
        .iter()
        .flat_map(|d| &d.changes)
        .filter(|c| c.impact == Impact::Breaking)
        .count();
    #[derive(Serialize)]
    struct Report<'a> {
        old: &'a str,
        new: &'a str,
        breaking_changes: usize,
        version_errors: usize,
        events: &'a [EventDiff],
        #[serde(skip_serializing_if = "<[FunnelDiff]>::is_empty")]
        funnels: &'a [FunnelDiff],
    }
    let report = Report {
        old,
        new,
        breaking_changes: breaking,
        version_errors: diffs.iter().filter(|d| d.version_error.is_some()).count(),
        events: diffs,
        funnels,
    };
    let mut s = serde_json::to_string_pretty(&report).expect("plain JSON");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impact_names() {
        assert_eq!(
            serde_json::to_string(&Impact::NonBreaking).unwrap(),
            "\"non-breaking\""
        );
    }
}

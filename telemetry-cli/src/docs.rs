//! `telemetry catalog docs`: the tracking plan as a document for people who do not read
//! Rust (product managers, analysts, privacy reviewers): events grouped by category and
//! owner, properties with types, allowed values and personal data handling, and where
//! each event is sent from. Markdown here; the HTML page is in `html.rs`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use telemetry_core::catalog::{Catalog, CatalogEvent};
use telemetry_core::{Pii, PropertySchema};

use crate::input::{Failure, print, read_catalog, write_file};

/// Arguments of `telemetry catalog docs`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The catalog file.
    catalog: PathBuf,
    /// Document format.
    #[arg(long, value_enum, default_value_t = DocsFormat::Markdown)]
    format: DocsFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Title of the document.
    #[arg(long, default_value = "Tracking plan")]
    title: String,
}

/// Document formats.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DocsFormat {
    /// Markdown (GitHub flavour), for a repository or a wiki.
    Markdown,
    /// One self-contained HTML page (no network), with a search box.
    Html,
}

/// Events grouped by category, then owner; both sorted, empty ones last as `-`.
pub(crate) type Groups<'a> =
    BTreeMap<(bool, &'a str), BTreeMap<(bool, &'a str), Vec<&'a CatalogEvent>>>;

/// Groups events by category, then owner (names sorted, unset ones last).
pub(crate) fn groups(catalog: &Catalog) -> Groups<'_> {
    let mut groups: Groups<'_> = BTreeMap::new();
    for e in &catalog.events {
        let (c, o) = (e.schema.category.trim(), e.schema.owner.trim());
        groups
            .entry((c.is_empty(), c))
            .or_default()
            .entry((o.is_empty(), o))
            .or_default()
            .push(e);
    }
    groups
}

/// A category or owner name for display.
pub(crate) fn label(name: &str, unset: &'static str) -> String {
    if name.is_empty() {
        unset.to_string()
    } else {
        name.to_string()
    }
}

/// How a property's personal data is handled, in words.
pub(crate) fn pii_words(pii: Pii) -> &'static str {
    match pii {
        Pii::None => "not personal",
        Pii::Hash => "hashed (keyed HMAC; joins still work)",
        Pii::Redact => "redacted (replaced by \"[redacted]\")",
        Pii::Drop => "dropped (never leaves the app)",
    }
}

/// The property's type in words: `integer`, `string, one of ...`, optional or not.
pub(crate) fn type_words(p: &PropertySchema) -> String {
    let mut t = p.ty.as_str().to_string();
    if matches!(p.pii, Pii::Hash | Pii::Redact) && t != "string" {
        t.push_str(" (recorded as a string)");
    }
    t
}

/// Summary line: counts of events, properties, personal data, owners.
pub(crate) fn summary(catalog: &Catalog) -> String {
    let properties: usize = catalog
        .events
        .iter()
        .map(|e| e.schema.properties.len())
        .sum();
    let mut owners: Vec<&str> = catalog
        .events
        .iter()
        .map(|e| &*e.schema.owner)
        .filter(|o| !o.is_empty())
        .collect();
    owners.sort_unstable();
    owners.dedup();
    format!(
        "{} events, {properties} properties ({} with personal data), {} owners",
        catalog.events.len(),
        catalog.pii_property_count(),
        owners.len()
    )
}

fn md(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
}

/// The Markdown document.
pub(crate) fn markdown(catalog: &Catalog, title: &str) -> String {
    let mut out = format!("# {title}\n\n{}.\n\n", summary(catalog));
    let groups = groups(catalog);
    out.push_str("## Contents\n\n");
    for ((_, category), owners) in &groups {
        let category = label(category, "uncategorised");
        out.push_str(&format!("- **{category}**:"));
        for events in owners.values() {
            for e in events {
                out.push_str(&format!(
                    " [`{}`](#{})",
                    e.schema.name,
                    anchor(&e.schema.name)
                ));
            }
        }
        out.push('\n');
    }
    for ((_, category), owners) in &groups {
        out.push_str(&format!(
            "\n## Category: {}\n",
            label(category, "uncategorised")
        ));
        for ((_, owner), events) in owners {
            out.push_str(&format!("\n### Owner: {}\n", label(owner, "no owner")));
            for e in events {
                event_markdown(e, &mut out);
            }
        }
    }
    funnels_markdown(catalog, &mut out);
    out
}

/// The catalog's funnels (`funnel!`), after the events.
fn funnels_markdown(catalog: &Catalog, out: &mut String) {
    if catalog.funnels.is_empty() {
        return;
    }
    out.push_str(
        "
## Funnels
",
    );
    for f in &catalog.funnels {
        out.push_str(&format!(
            "
#### {}

{}

Owner: {} · conversion window: {}

",
            f.name,
            f.description.trim(),
            label(&f.owner, "no owner"),
            f.window
        ));
        for (n, step) in f.steps.iter().enumerate() {
            let filters: Vec<String> = step
                .filters
                .iter()
                .map(|c| format!("`{}` = `{}`", c.property, c.equals))
                .collect();
            let filters = if filters.is_empty() {
                String::new()
            } else {
                format!(" where {}", filters.join(" and "))
            };
            out.push_str(&format!(
                "{}. [`{}`](#{}){filters}\n",
                n + 1,
                step.event,
                anchor(&step.event)
            ));
        }
    }
}

/// The id GitHub gives a `####` heading made of the event name.
fn anchor(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

fn event_markdown(e: &CatalogEvent, out: &mut String) {
    let s = &e.schema;
    out.push_str(&format!("\n#### {}\n\n", s.name));
    let description = if s.description.trim().is_empty() {
        "*No description.*"
    } else {
        s.description.trim()
    };
    out.push_str(&format!("{description}\n\n"));
    out.push_str(&format!(
        "Version {} · defined by `{}`{}\n\n",
        s.version,
        s.rust_type,
        if s.active {
            " · counts its user as active"
        } else {
            ""
        }
    ));
    if s.properties.is_empty() {
        out.push_str("No properties.\n\n");
    } else {
        out.push_str("| property | type | required | allowed values | personal data | description |\n|---|---|---|---|---|---|\n");
        for p in s.properties.iter() {
            let values = p
                .values
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | {} |\n",
                p.name,
                type_words(p),
                if p.optional { "no" } else { "yes" },
                values,
                if p.pii == Pii::None {
                    ""
                } else {
                    pii_words(p.pii)
                },
                md(&p.description)
            ));
        }
        out.push('\n');
    }
    if e.call_sites.is_empty() {
        out.push_str("**Never sent**: no code emits this event.\n");
    } else {
        out.push_str("Sent from:\n");
        for c in &e.call_sites {
            out.push_str(&format!(
                "- `{}:{}` (`{}`)\n",
                c.file, c.line, c.module_path
            ));
        }
    }
}

/// `telemetry catalog docs`.
pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let catalog = read_catalog(&args.catalog)?;
    let text = match args.format {
        DocsFormat::Markdown => markdown(&catalog, &args.title),
        DocsFormat::Html => crate::html::page(&catalog, &args.title),
    };
    match &args.out {
        Some(path) => {
            write_file(path, &text)?;
            print(&format!("wrote {}\n", path.display()));
        }
        None => print(&text),
    }
    Ok(ExitCode::SUCCESS)
}

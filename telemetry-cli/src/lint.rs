//! `telemetry catalog lint`: configurable rules over the catalog.
//!
//! The checks that `telemetry_core::Catalog::validate` already makes (duplicates,
//! missing descriptions and owners, events never sent) are taken from it, so a library
//! user and the CLI agree; the rules that need configuration or look across events
//! live here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;
use telemetry_core::catalog::{
    Catalog, check_event_name, check_property_name, looks_like_personal_data,
};
use telemetry_core::{Pii, PropertyType};

use crate::Format;
use crate::config::{self, Level, LintConfig, Naming};
use crate::input::{Failure, print, read_catalog};
use crate::style::{self, paint};

/// Arguments of `telemetry catalog lint`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The catalog file.
    catalog: PathBuf,
    /// The configuration file (default: `telemetry.toml` in the current directory, if
    /// there is one).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit with 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
}

/// A lint rule.
pub(crate) struct Rule {
    /// Stable id, used in `telemetry.toml` and in reports.
    pub(crate) id: &'static str,
    /// Severity unless configured.
    pub(crate) default: Level,
    /// What the rule checks and why it matters.
    pub(crate) explanation: &'static str,
}

/// Every rule, in the order `telemetry catalog rules` lists them.
pub(crate) const RULES: &[Rule] = &[
    Rule {
        id: "duplicate-name",
        default: Level::Error,
        explanation: "Two event types share a name: their records cannot be told apart in analysis. Give each type its own name.",
    },
    Rule {
        id: "case-clash",
        default: Level::Error,
        explanation: "Two event names differ only in letter case (`Cart.Added` / `cart.added`); many analytics tools merge or split them unpredictably. Keep one spelling.",
    },
    Rule {
        id: "invalid-name",
        default: Level::Error,
        explanation: "An event name breaks the configured naming convention (`[lint] naming`, default `object.action`: lowercase snake_case segments joined by dots), or a property name is not lowercase snake_case. Consistent names make the plan searchable.",
    },
    Rule {
        id: "missing-description",
        default: Level::Error,
        explanation: "An event has no description. The doc comment on the event type is the description: say what happened, for someone who has not read the code.",
    },
    Rule {
        id: "trivial-description",
        default: Level::Warning,
        explanation: "An event's description is shorter than `[lint] min_description_words` (default 3), only repeats the name, or is a placeholder (TODO, TBD). Say when the event is sent and what it means.",
    },
    Rule {
        id: "missing-owner",
        default: Level::Warning,
        explanation: "An event has no owner: nobody to ask about it or to approve changes. Add `owner = \"team\"` to its #[telemetry(...)] attribute.",
    },
    Rule {
        id: "undescribed-property",
        default: Level::Warning,
        explanation: "A property has no description. Add a doc comment to the field: its meaning, unit and range.",
    },
    Rule {
        id: "property-type-conflict",
        default: Level::Error,
        explanation: "The same property name has different types in different events (`order_id` integer here, string there). Analysts join on property names: use one type, or rename one of them.",
    },
    Rule {
        id: "property-pii-conflict",
        default: Level::Warning,
        explanation: "The same property name is handled as personal data in one event and not (or differently) in another. Usually one declaration is missing.",
    },
    Rule {
        id: "undeclared-pii",
        default: Level::Error,
        explanation: "A property named like personal data (`email`, `phone`, `ip_address`, `full_name`, ..., plus `[lint] personal_words`) declares no handling. Add `#[telemetry(pii = \"hash\")]` (or \"redact\" / \"drop\") to the field, or rename it if it is not personal.",
    },
    Rule {
        id: "never-emitted",
        default: Level::Warning,
        explanation: "No `emit!` in the program sends the event: it is dead weight in the plan, or the code that should send it is missing.",
    },
    Rule {
        id: "invalid-funnel",
        default: Level::Error,
        explanation: "A funnel of the catalog cannot be computed: a step names an event the catalog does not have, a filter names a property the event does not have or compares it with a value of the wrong type or not among its allowed values or with personal data, the window is not a duration (`30m`, `1d`), or the funnel has no description or fewer than two steps. Fix the `funnel!` definition.",
    },
    Rule {
        id: "empty-catalog",
        default: Level::Warning,
        explanation: "The catalog lists no events. Usually the crate that defines the events is not linked into the binary that wrote the catalog: add `use the_crate as _;`.",
    },
];

fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// One problem found by the lint.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Finding {
    /// Rule id.
    pub(crate) rule: &'static str,
    /// `error` or `warning`.
    pub(crate) severity: Level,
    /// Event concerned (empty for catalog-wide findings).
    pub(crate) event: String,
    /// Property concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) property: Option<String>,
    /// What is wrong and what to do.
    pub(crate) message: String,
}

/// Runs every enabled rule; findings sorted by severity, event, rule.
pub(crate) fn lint(catalog: &Catalog, config: &LintConfig) -> Vec<Finding> {
    let mut raw: Vec<(&'static str, String, Option<String>, String)> = Vec::new();
    // Rules taken from the library's own check, so both agree.
    for problem in catalog.validate() {
        let id = problem.kind.id();
        if matches!(id, "invalid-name" | "undeclared-pii") {
            continue; // configurable here: naming convention, extra personal words
        }
        raw.push((id, problem.event.clone(), None, problem.message.clone()));
    }
    if catalog.events.is_empty() {
        raw.push(("empty-catalog", String::new(), None, "the catalog lists no events; check that the crate defining them is linked into the program (`use the_crate as _;`)".into()));
    }
    let personal_extra: Vec<String> = config
        .personal_words
        .iter()
        .map(|w| w.to_lowercase())
        .collect();
    for event in &catalog.events {
        let s = &event.schema;
        let name = s.name.to_string();
        if let Err(why) = check_naming(&s.name, config.naming) {
            raw.push(("invalid-name", name.clone(), None, why));
        }
        if !s.description.trim().is_empty()
            && let Some(why) = trivial(&s.name, &s.description, config.min_description_words)
        {
            raw.push(("trivial-description", name.clone(), None, format!("`{}`: {why}; say when the event is sent and what it means, in the doc comment of {}", s.name, s.rust_type)));
        }
        for p in s.properties.iter() {
            let prop = Some(p.name.to_string());
            if let Err(why) = check_property_name(&p.name) {
                raw.push((
                    "invalid-name",
                    name.clone(),
                    prop.clone(),
                    format!("`{}.{}`: {why}", s.name, p.name),
                ));
            }
            if p.description.trim().is_empty() {
                raw.push(("undescribed-property", name.clone(), prop.clone(), format!("`{}.{}` has no description; add a doc comment to the field (meaning, unit, range)", s.name, p.name)));
            }
            let extra = p
                .name
                .to_lowercase()
                .split('_')
                .any(|w| personal_extra.iter().any(|x| x == w));
            if p.pii == Pii::None && (looks_like_personal_data(&p.name) || extra) {
                raw.push(("undeclared-pii", name.clone(), prop.clone(), format!("`{}.{}` looks like personal data but declares no handling; add `#[telemetry(pii = \"hash\")]` (or \"redact\" / \"drop\") to the field, or rename it if it is not personal", s.name, p.name)));
            }
        }
    }
    cross_event_rules(catalog, &mut raw);

    let mut findings: Vec<Finding> = raw
        .into_iter()
        .filter_map(|(id, event, property, message)| {
            let severity = config
                .rules
                .get(id)
                .copied()
                .or_else(|| rule(id).map(|r| r.default))
                .unwrap_or(Level::Warning);
            (severity != Level::Off).then_some(Finding {
                rule: rule(id).map_or(id, |r| r.id),
                severity,
                event,
                property,
                message,
            })
        })
        .collect();
    findings.sort_by(|a, b| {
        (a.severity, &a.event, a.rule, &a.property).cmp(&(
            b.severity,
            &b.event,
            b.rule,
            &b.property,
        ))
    });
    findings
}

/// `property-type-conflict` and `property-pii-conflict`.
fn cross_event_rules(
    catalog: &Catalog,
    raw: &mut Vec<(&'static str, String, Option<String>, String)>,
) {
    let mut uses: BTreeMap<&str, Vec<(&str, PropertyType, Pii)>> = BTreeMap::new();
    for event in &catalog.events {
        for p in event.schema.properties.iter() {
            uses.entry(&p.name)
                .or_default()
                .push((&event.schema.name, p.ty, p.pii));
        }
    }
    for (property, uses) in uses {
        let describe = |label: &dyn Fn(&(&str, PropertyType, Pii)) -> &'static str| {
            let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for u in &uses {
                groups.entry(label(u)).or_default().push(u.0);
            }
            (groups.len() > 1).then(|| {
                groups
                    .iter()
                    .map(|(l, events)| format!("{l} in {}", events.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        };
        let first = uses[0].0.to_string();
        if let Some(detail) = describe(&|u| u.1.as_str()) {
            raw.push(("property-type-conflict", first.clone(), Some(property.to_string()), format!("property `{property}` has different types: {detail}; use one type everywhere, or rename one of them")));
        }
        if let Some(detail) = describe(&|u| u.2.as_str()) {
            raw.push(("property-pii-conflict", first, Some(property.to_string()), format!("property `{property}` is handled differently: pii {detail}; declare the same `pii` handling everywhere")));
        }
    }
}

/// Checks an event name against a naming convention.
fn check_naming(name: &str, naming: Naming) -> Result<(), String> {
    let ok = match naming {
        Naming::ObjectAction => return check_event_name(name),
        Naming::SnakeCase => {
            name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !name.contains("__")
                && !name.ends_with('_')
        }
        Naming::TitleCase => name.split(' ').all(|w| {
            w.starts_with(|c: char| c.is_ascii_uppercase())
                && w.chars().all(|c| c.is_ascii_alphanumeric())
        }),
        Naming::CamelCase => {
            name.starts_with(|c: char| c.is_ascii_lowercase())
                && name.chars().all(|c| c.is_ascii_alphanumeric())
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "event name `{name}` does not follow the `{}` convention configured in [lint] naming; rename the event",
            naming.as_str()
        ))
    }
}

/// Why a (non-empty) description says nothing, if it does not.
fn trivial(name: &str, description: &str, min_words: usize) -> Option<String> {
    let words: Vec<String> = description
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let name_words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words
        .iter()
        .any(|w| matches!(w.as_str(), "todo" | "tbd" | "fixme" | "xxx"))
    {
        Some(format!(
            "the description \"{}\" is a placeholder",
            description.trim()
        ))
    } else if words == name_words {
        Some(format!(
            "the description \"{}\" only repeats the name",
            description.trim()
        ))
    } else if words.len() < min_words {
        Some(format!(
            "the description \"{}\" has {} word(s), fewer than {min_words}",
            description.trim(),
            words.len()
        ))
    } else {
        None
    }
}

/// `telemetry catalog lint`.
pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let (config, _) = config::load(args.config.as_deref())?;
    let catalog = read_catalog(&args.catalog)?;
    let findings = lint(&catalog, &config.lint);
    let errors = findings
        .iter()
        .filter(|f| f.severity == Level::Error)
        .count();
    let warnings = findings.len() - errors;
    print(&match args.format {
        Format::Text => render_text(&args.catalog, &catalog, &findings),
        Format::Json => render_json(&args.catalog, &catalog, &findings),
    });
    Ok(if errors > 0 || (args.deny_warnings && warnings > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The text report (styled; plain when not on a terminal).
pub(crate) fn render_text(path: &Path, catalog: &Catalog, findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let label = match f.severity {
            Level::Error => paint(style::ERROR, format_args!("error[{}]", f.rule)),
            _ => paint(style::WARNING, format_args!("warning[{}]", f.rule)),
        };
        let place = match (&f.event[..], &f.property) {
            ("", _) => String::new(),
            (e, Some(p)) => format!(" {}", paint(style::NAME, format_args!("{e}.{p}"))),
            (e, None) => format!(" {}", paint(style::NAME, e)),
        };
        out.push_str(&format!("{label}{place}: {}\n", f.message));
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Level::Error)
        .count();
    let warnings = findings.len() - errors;
    if !findings.is_empty() {
        out.push('\n');
    }
    let summary = format!(
        "{}: {} events, {errors} errors, {warnings} warnings",
        path.display(),
        catalog.events.len()
    );
    let summary_style = if errors > 0 {
        style::ERROR
    } else if warnings > 0 {
        style::WARNING
    } else {
        style::OK
    };
    out.push_str(&paint(summary_style, summary));
    out.push('\n');
    if !findings.is_empty() {
        out.push_str(&paint(
            style::DIM,
            "`telemetry catalog rules` explains each rule; change severities in telemetry.toml\n",
        ));
    }
    out
}

/// The JSON report.
pub(crate) fn render_json(path: &Path, catalog: &Catalog, findings: &[Finding]) -> String {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Level::Error)
        .count();
    #[derive(Serialize)]
    struct Report<'a> {
        catalog: String,
        events: usize,
        errors: usize,
        warnings: usize,
        findings: &'a [Finding],
    }
    let report = Report {
        catalog: path.display().to_string(),
        events: catalog.events.len(),
        errors,
        warnings: findings.len() - errors,
        findings,
    };
    let mut out = serde_json::to_string_pretty(&report).expect("plain JSON");
    out.push('\n');
    out
}

/// A rule in `telemetry catalog rules --format json`.
#[derive(Serialize)]
struct JsonRule {
    id: &'static str,
    severity: Level,
    default: Level,
    explanation: &'static str,
}

/// `telemetry catalog rules`.
pub(crate) fn rules(config: Option<&Path>, format: Format) -> Result<ExitCode, Failure> {
    let (config, from) = config::load(config)?;
    let level = |r: &Rule| config.lint.rules.get(r.id).copied().unwrap_or(r.default);
    let text = match format {
        Format::Json => {
            let rules: Vec<_> = RULES
                .iter()
                .map(|r| JsonRule {
                    id: r.id,
                    severity: level(r),
                    default: r.default,
                    explanation: r.explanation,
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&serde_json::json!({ "rules": rules }))
                .expect("plain JSON");
            s.push('\n');
            s
        }
        Format::Text => {
            let mut s = match from {
                Some(path) => format!("Configuration: {}\n\n", path.display()),
                None => format!(
                    "Configuration: defaults (no {})\n\n",
                    config::DEFAULT_CONFIG
                ),
            };
            for r in RULES {
                let lv = level(r);
                let painted = match lv {
                    Level::Error => paint(style::ERROR, lv.as_str()),
                    Level::Warning => paint(style::WARNING, lv.as_str()),
                    Level::Off => paint(style::DIM, lv.as_str()),
                };
                s.push_str(&format!(
                    "{} {painted}\n    {}\n",
                    paint(style::NAME, format_args!("{:<24}", r.id)),
                    r.explanation
                ));
            }
            s
        }
    };
    print(&text);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naming_conventions() {
        assert!(check_naming("cart.item_added", Naming::ObjectAction).is_ok());
        assert!(check_naming("Cart Item Added", Naming::ObjectAction).is_err());
        assert!(check_naming("Cart Item Added", Naming::TitleCase).is_ok());
        assert!(check_naming("cart_item_added", Naming::SnakeCase).is_ok());
        assert!(check_naming("cartItemAdded", Naming::CamelCase).is_ok());
        assert!(check_naming("cart.itemAdded", Naming::SnakeCase).is_err());
    }

    #[test]
    fn trivial_descriptions() {
        assert!(trivial("cart.item_added", "Cart item added.", 3).is_some());
        assert!(trivial("cart.item_added", "TODO describe", 1).is_some());
        assert!(trivial("cart.item_added", "Added.", 3).is_some());
        assert!(trivial("cart.item_added", "A customer added a dish.", 3).is_none());
    }

    #[test]
    fn every_rule_has_an_explanation() {
        for r in RULES {
            assert!(r.explanation.len() > 40, "{}", r.id);
        }
    }
}

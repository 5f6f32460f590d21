//! `catalog show`, `catalog check` and `events count`: quick looks at the inputs.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use telemetry_core::catalog::{Catalog, Severity};
use telemetry_core::record::RecordKind;
use telemetry_core::{Pii, Record};

use crate::input::{Failure, read_catalog};

pub(crate) fn show(path: &Path) -> Result<ExitCode, Failure> {
    let catalog = read_catalog(path)?;
    let mut out = io::stdout().lock();
    let _ = write_show(&mut out, &catalog);
    Ok(ExitCode::SUCCESS)
}

fn write_show(out: &mut impl Write, catalog: &Catalog) -> io::Result<()> {
    writeln!(
        out,
        "{} events, {} call sites, {} properties with personal data",
        catalog.events.len(),
        catalog
            .events
            .iter()
            .map(|e| e.call_sites.len())
            .sum::<usize>(),
        catalog.pii_property_count()
    )?;
    for event in &catalog.events {
        let s = &event.schema;
        let owner = if s.owner.is_empty() { "-" } else { &s.owner };
        writeln!(out, "\n{} v{}  (owner: {owner})", s.name, s.version)?;
        if let Some(first) = s.description.lines().next() {
            writeln!(out, "  {first}")?;
        }
        for p in s.properties.iter() {
            let mut line = format!("    {}: {}", p.name, p.ty.as_str());
            if p.optional {
                line.push('?');
            }
            if !p.values.is_empty() {
                line.push_str(&format!(" [{}]", p.values.join(", ")));
            }
            if p.pii != Pii::None {
                line.push_str(&format!("  pii={}", p.pii.as_str()));
            }
            writeln!(out, "{line}")?;
        }
        if event.call_sites.is_empty() {
            writeln!(out, "  never emitted")?;
        }
        for site in &event.call_sites {
            writeln!(
                out,
                "  emitted at {}:{} ({})",
                site.file, site.line, site.module_path
            )?;
        }
    }
    Ok(())
}

pub(crate) fn check(path: &Path, deny_warnings: bool) -> Result<ExitCode, Failure> {
    let catalog = read_catalog(path)?;
    let problems = catalog.validate();
    for p in &problems {
        println!("{p}");
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity() == Severity::Error)
        .count();
    let warnings = problems.len() - errors;
    println!(
        "{}: {} events, {errors} errors, {warnings} warnings",
        path.display(),
        catalog.events.len()
    );
    Ok(if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn count(path: &Path) -> Result<ExitCode, Failure> {
    let file = fs::File::open(path).map_err(|e| {
        Failure(format!(
            "cannot open the event file `{}`: {e}",
            path.display()
        ))
    })?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut total = 0u64;
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Failure(format!("{}:{}: {e}", path.display(), n + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let record = Record::from_json(&line).map_err(|e| {
            Failure(format!(
                "{}:{}: not a telemetry record ({e}); each line must be one JSON record as written by telemetry-core",
                path.display(),
                n + 1
            ))
        })?;
        if record.kind != RecordKind::Event {
            continue; // the pipeline's own `telemetry.stats` records
        }
        *counts.entry(record.name).or_default() += 1;
        total += 1;
    }
    let width = counts.keys().map(String::len).max().unwrap_or(0);
    for (name, n) in &counts {
        println!("{name:<width$}  {n:>8}");
    }
    println!("{:<width$}  {total:>8}", "total");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_lists_properties_and_pii() {
        let json = r#"{"format": 1, "events": [{"name": "user.signed_in", "version": 2,
            "description": "A user signed in.\nMore.", "category": "", "owner": "identity",
            "rust_type": "app::SignedIn",
            "properties": [{"name": "email", "type": "string", "rust_type": "String",
                "optional": true, "pii": "hash", "description": ""}],
            "call_sites": []}]}"#;
        let catalog = Catalog::from_json(json).unwrap();
        let mut out = Vec::new();
        write_show(&mut out, &catalog).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("user.signed_in v2  (owner: identity)"),
            "{text}"
        );
        assert!(text.contains("    email: string?  pii=hash"), "{text}");
        assert!(text.contains("never emitted"), "{text}");
    }
}

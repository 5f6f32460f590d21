//! `telemetry`: read the tracking plan (catalog file) and event files written by
//! programs that use `telemetry-core`.
//!
//! Exit codes: 0 success; 1 the check found errors; 2 the input could not be read
//! (missing file, malformed catalog, broken JSONL line).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use telemetry_core::catalog::{Catalog, Severity};
use telemetry_core::{Pii, Record};

/// Inspect and check the tracking plan generated from your code.
#[derive(Parser)]
#[command(name = "telemetry", version, about, long_about = None)]
#[command(after_help = "Exit codes: 0 success, 1 the check found errors, 2 unreadable input.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with a catalog file (written by `telemetry_core::catalog().to_json()`).
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Work with a JSONL event file.
    #[command(subcommand)]
    Events(EventsCommand),
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// List every event: name, version, owner, properties, personal data, call sites.
    Show {
        /// The catalog file.
        catalog: PathBuf,
    },
    /// Report duplicate or badly formed names, missing descriptions and owners, and
    /// events that are never sent. Exits with 1 when there are errors.
    Check {
        /// The catalog file.
        catalog: PathBuf,
        /// Exit with 1 on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Count the records of each event in a JSONL file.
    Count {
        /// The JSONL file.
        events: PathBuf,
    },
}

/// An error that stops the command: the message names the input and what to do.
struct Failure(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Catalog(CatalogCommand::Show { catalog }) => show(&catalog),
        Command::Catalog(CatalogCommand::Check {
            catalog,
            deny_warnings,
        }) => check(&catalog, deny_warnings),
        Command::Events(EventsCommand::Count { events }) => count(&events),
    };
    match result {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn read_catalog(path: &Path) -> Result<Catalog, Failure> {
    let text = fs::read_to_string(path)
        .map_err(|e| Failure(format!("cannot read the catalog `{}`: {e}", path.display())))?;
    Catalog::from_json(&text).map_err(|e| Failure(format!("{}: {e}", path.display())))
}

fn show(path: &Path) -> Result<ExitCode, Failure> {
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

fn check(path: &Path, deny_warnings: bool) -> Result<ExitCode, Failure> {
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

fn count(path: &Path) -> Result<ExitCode, Failure> {
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
    fn cli_definition_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

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

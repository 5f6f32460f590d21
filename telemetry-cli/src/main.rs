//! `telemetry`: audit the tracking plan (catalog file) and the event files written by
//! programs that use `telemetry-core`.
//!
//! Exit codes: 0 success; 1 the command found problems (lint errors, a breaking change
//! without a version bump, events that break the plan); 2 the input could not be read
//! (missing file, malformed catalog or configuration, unwritable output) or the command
//! line is wrong.

mod config;
mod diff;
mod docs;
mod export;
mod html;
mod input;
mod lint;
mod report;
mod report_html;
mod schema;
mod show;
mod style;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::input::Failure;

const EXIT_CODES: &str = "\
Exit codes:
  0  success: nothing to report, or only what the options allow
  1  the command found problems (lint errors, breaking change without version bump,
     events that break the plan, malformed event lines)
  2  the input could not be read or the output written (the message names the file),
     or the command line is wrong";

const EXPORT_EXIT_CODES: &str = "\
Exit codes:
  0  every event was sent
  1  events failed or were rejected by the destination, or lines were malformed
     (each reported with file:line and skipped)
  2  the input, the state file or the destination's configuration is unusable
     (the message says what to do), or the command line is wrong";

/// Audit the tracking plan generated from your code: export, lint, diff, document and
/// validate it.
#[derive(Parser)]
#[command(name = "telemetry", version, about, long_about = None)]
#[command(after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with a catalog file (the tracking plan written by the program; see the
    /// README's "Getting the catalog out of a program").
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Check recorded events (JSONL) against the catalog: unknown events and properties,
    /// missing required properties, wrong types, values not allowed, version mismatches.
    #[command(after_help = EXIT_CODES)]
    Validate(validate::Args),
    /// Product metrics from recorded events: active users, retention and churn, the
    /// catalog's funnels (and ad-hoc ones), error rates and latency of instrumented
    /// functions, as text, JSON or an HTML page with charts. Days are UTC unless `--tz`
    /// says otherwise.
    Report(report::Args),
    /// Send a recorded JSONL file to an analytics vendor, an OpenTelemetry collector or
    /// PostgreSQL, through the same exporters as the program. Resumes where an
    /// interrupted export stopped (`--restart` to send everything again).
    #[command(after_help = EXPORT_EXIT_CODES)]
    Export(export::Args),
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
    /// Lint the catalog with configurable rules (naming, descriptions, owners, property
    /// types, personal data, ...); see `telemetry catalog rules`.
    #[command(after_help = EXIT_CODES)]
    Lint(lint::Args),
    /// List the lint rules: id, severity (after `telemetry.toml`), what each checks.
    Rules {
        /// The configuration file (default: `telemetry.toml` in the current directory,
        /// if there is one).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Compare two catalogs: added, removed and changed events and properties, each
    /// classified breaking or not, and whether breaking changes bumped the version.
    #[command(after_help = EXIT_CODES)]
    Diff(diff::Args),
    /// Write the tracking plan as a document for product, analytics and privacy teams
    /// (Markdown, or one self-contained HTML page with a search box).
    Docs(docs::Args),
    /// Write one JSON Schema (draft 2020-12) per event, describing its records.
    Schema(schema::Args),
    /// The basic checks of `telemetry_core::Catalog::validate` (no configuration).
    /// Prefer `lint`.
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

/// Output format of reports.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people; coloured on a terminal.
    Text,
    /// For programs.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Catalog(CatalogCommand::Show { catalog }) => show::show(&catalog),
        Command::Catalog(CatalogCommand::Check {
            catalog,
            deny_warnings,
        }) => show::check(&catalog, deny_warnings),
        Command::Catalog(CatalogCommand::Lint(args)) => lint::run(&args),
        Command::Catalog(CatalogCommand::Rules { config, format }) => {
            lint::rules(config.as_deref(), format)
        }
        Command::Catalog(CatalogCommand::Diff(args)) => diff::run(&args),
        Command::Catalog(CatalogCommand::Docs(args)) => docs::run(&args),
        Command::Catalog(CatalogCommand::Schema(args)) => schema::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Events(EventsCommand::Count { events }) => show::count(&events),
    };
    match result {
        Ok(code) => code,
        Err(Failure(message)) => {
            let mut err = anstream::stderr();
            let _ = std::io::Write::write_fmt(
                &mut err,
                format_args!(
                    "{}error{}: {message}\n",
                    style::ERROR,
                    style::ERROR.render_reset()
                ),
            );
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

//! `telemetry report`: every metric the catalog defines (active users from `active`
//! events, retention and churn, its funnels, reliability of instrumented functions),
//! computed by `telemetry-analysis` while streaming the records, or with `--postgres`
//! by SQL in the table of the PostgreSQL sink.

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use telemetry_analysis::source::{self, Source};
use telemetry_analysis::{Analyzer, Options, Report, TimeZone};
use telemetry_core::catalog::{Funnel, FunnelStep, parse_window};

use crate::Format;
use crate::input::{Failure, print, read_catalog, write_file};

/// Arguments of `telemetry report`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The event files: JSONL, gzip (`.gz`) or zstd (`.zst`) compressed, or
    /// directories of them (every `*.jsonl[.N][.gz|.zst]` inside, in name order);
    /// `-` is standard input.
    #[arg(
        required_unless_present = "postgres",
        conflicts_with = "postgres",
        value_name = "EVENTS"
    )]
    events: Vec<PathBuf>,
    /// Read the events from PostgreSQL instead of files: the table that the sink
    /// `telemetry_core::export::Postgres` fills, in the database at this URL
    /// (`postgres://user:password@host:port/database`).
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// The table `--postgres` reads (default `telemetry_events`).
    #[arg(long, value_name = "TABLE", requires = "postgres")]
    table: Option<String>,
    /// The catalog file: its funnels, `active` events and event names are used.
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// An ad-hoc funnel: event names in order, separated by commas.
    #[arg(long, value_name = "EVENT,EVENT,..")]
    funnel: Vec<String>,
    /// Conversion window of ad-hoc funnels (`30m`, `1d`, ...).
    #[arg(long, default_value = "1d")]
    window: String,
    /// Split active users by a context field (`os`, `app_version`, ...) or a property.
    #[arg(long)]
    by: Option<String>,
    /// Split funnels by a property of their first step's event.
    #[arg(long)]
    breakdown: Option<String>,
    /// Length in days of the churn periods.
    #[arg(long, default_value_t = 7)]
    churn_days: u32,
    /// Bucket days in this IANA time zone (`Europe/Paris`, `America/New_York`);
    /// default UTC.
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Also write the report as one self-contained HTML page with charts.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let mut options = match &args.catalog {
        Some(path) => Options::from_catalog(&read_catalog(path)?),
        None => Options::default(),
    };
    parse_window(&args.window).map_err(|why| Failure(format!("--window: {why}")))?;
    for (i, list) in args.funnel.iter().enumerate() {
        let steps: Vec<FunnelStep> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| FunnelStep::new(s.to_owned(), Vec::new()))
            .collect();
        if steps.len() < 2 {
            return Err(Failure(format!(
                "--funnel `{list}` has fewer than two steps; list event names separated by commas, e.g. `search.performed,cart.item_added`"
            )));
        }
        let json = serde_json::json!({
            "name": format!("adhoc_{}", i + 1), "description": list,
            "window": args.window, "steps": steps,
        });
        let funnel: Funnel = serde_json::from_value(json).expect("a funnel built from its fields");
        options.funnels.push(funnel);
    }
    options.by = args.by.clone();
    options.funnel_breakdown = args.breakdown.clone();
    options.churn_period_days = args.churn_days.max(1);
    if let Some(zone) = &args.tz {
        options.time_zone = TimeZone::get(zone).map_err(|why| Failure(format!("--tz: {why}")))?;
    }
    if let Some(url) = &args.postgres {
        let table = args
            .table
            .as_deref()
            .unwrap_or(telemetry_analysis::postgres::DEFAULT_TABLE);
        let report = telemetry_analysis::postgres::report(url, table, &options)
            .map_err(|e| Failure(e.to_string()))?;
        return output(args, &report);
    }
    // Every path is checked before reading any, so that a typo fails at once.
    let mut inputs: Vec<Option<Source>> = Vec::new();
    for path in &args.events {
        if source::is_stdin(path) {
            inputs.push(None);
        } else {
            let found = source::expand(std::slice::from_ref(path)).map_err(|e| Failure(e.0))?;
            inputs.extend(found.into_iter().map(Some));
        }
    }
    let mut analyzer = Analyzer::new(options);
    let read = Arc::new(AtomicU64::new(0));
    let total: u64 = inputs.iter().flatten().map(|s| s.size).sum();
    let mut progress = Progress::new(read.clone(), total, inputs.len());
    // Lines are parsed on the other cores while this thread computes.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    for (n, input) in inputs.iter().enumerate() {
        let (name, reader) = match input {
            None => (
                "-".to_owned(),
                source::decompress(std::io::stdin(), read.clone())
                    .map_err(|e| Failure(format!("cannot read the standard input: {e}")))?,
            ),
            Some(src) => (
                src.name(),
                src.open(read.clone()).map_err(|e| Failure(e.0))?,
            ),
        };
        analyzer.begin_source(name.clone());
        progress.file(n, &name);
        let result = analyzer.read(reader, threads, || progress.tick());
        if let Err((lines, e)) = result {
            let why = format!(
                "{name}: reading stopped after line {lines}: {e}; the lines before it are counted (is the file complete?)"
            );
            analyzer.read_error(why);
        }
    }
    progress.clear();
    let report = analyzer.finish();
    output(args, &report)
}

/// Writes the report: the HTML page when asked, and text or JSON on standard output.
fn output(args: &Args, report: &Report) -> Result<ExitCode, Failure> {
    if let Some(path) = &args.html {
        write_file(path, &crate::report_html::page(report))?;
    }
    match args.format {
        Format::Json => print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report).expect("the report is plain data")
        )),
        Format::Text => print(&text(report)),
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress line on standard error while reading, when it is a terminal.
struct Progress {
    read: Arc<AtomicU64>,
    total: u64,
    files: usize,
    file: usize,
    name: String,
    start: Instant,
    last: Instant,
    shown: bool,
    on: bool,
}

impl Progress {
    fn new(read: Arc<AtomicU64>, total: u64, files: usize) -> Progress {
        let now = Instant::now();
        Progress {
            read,
            total,
            files,
            file: 0,
            name: String::new(),
            start: now,
            last: now,
            shown: false,
            on: std::io::stderr().is_terminal(),
        }
    }

    fn file(&mut self, n: usize, name: &str) {
        self.file = n;
        self.name = name.to_owned();
        self.tick();
    }

    fn tick(&mut self) {
        if !self.on || self.last.elapsed() < Duration::from_millis(100) {
            return;
        }
        self.last = Instant::now();
        let read = self.read.load(Ordering::Relaxed);
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let line = if self.total > 0 {
            let share = (read as f64 / self.total as f64).min(1.0);
            let filled = (share * 30.0) as usize;
            format!(
                "[{}{}] {:>3.0}%  {:.0}/{:.0} MiB  {:.0} MiB/s  file {}/{} {}",
                "#".repeat(filled),
                " ".repeat(30 - filled),
                share * 100.0,
                mib(read),
                mib(self.total),
                mib(read) / secs,
                self.file + 1,
                self.files,
                self.name
            )
        } else {
            format!("{:.0} MiB read  {:.0} MiB/s", mib(read), mib(read) / secs)
        };
        eprint!("\r\x1b[2K{line}");
        self.shown = true;
    }

    fn clear(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
    }
}

/// A duration in the largest unit that keeps it readable (`850 ms`, `42.0 s`, `10.0 min`, `3.5 h`).
pub(crate) fn duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else if seconds < 3600.0 {
        format!("{:.1} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

/// Milliseconds with three significant decimals below 1 ms.
fn ms(v: f64) -> String {
    if v < 1.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.1}")
    }
}

/// A number without trailing zeros (`10`, `2.5`, `3.333`).
fn trim_float(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Aligned columns: the first left-aligned, the others right-aligned.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut line = |cells: Vec<String>| {
        let mut s = String::from("  ");
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i == 0 {
                let _ = write!(s, "{cell:<w$}");
            } else {
                let _ = write!(s, "  {cell:>w$}");
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// The report as text tables.
pub(crate) fn text(r: &Report) -> String {
    let mut out = String::new();
    let i = &r.input;
    let _ = writeln!(
        out,
        "{} records from {} to {} ({} days); {} malformed lines, {} records without a user, {} of unknown events",
        i.records,
        i.first_day.as_deref().unwrap_or("-"),
        i.last_day.as_deref().unwrap_or("-"),
        i.time_zone,
        i.malformed_lines,
        i.missing_user,
        i.unknown_events.values().sum::<u64>(),
    );
    if i.files.len() > 1 {
        let _ = writeln!(out, "read {} files: {}", i.files.len(), i.files.join(", "));
    }
    for why in &i.read_errors {
        let _ = writeln!(out, "read error: {why}");
    }
    for at in &i.malformed_at {
        let _ = writeln!(out, "malformed: {at}");
    }
    if !i.missing_user_at.is_empty() {
        let _ = writeln!(
            out,
            "without a user (first): {}",
            i.missing_user_at.join(", ")
        );
    }
    for (name, at) in &i.unknown_events_at {
        let _ = writeln!(
            out,
            "unknown event `{name}`: {} records, first at {at}",
            i.unknown_events.get(name).copied().unwrap_or(0)
        );
    }
    if i.is_estimated() {
        let rates: Vec<String> = i
            .sampled
            .iter()
            .map(|(rate, n)| {
                let scale = rate.parse::<f64>().map_or(1.0, |r| 1.0 / r);
                format!("{n} records at rate {rate} (x{})", trim_float(scale))
            })
            .collect();
        let _ = writeln!(
            out,
            "estimated from sampled events: {}; counts are scaled up, users by their sampling rate",
            rates.join(", ")
        );
    }
    if i.invalid_sample_rate > 0 {
        let _ = writeln!(
            out,
            "{} records with a sample_rate outside (0, 1], counted once each",
            i.invalid_sample_rate
        );
    }
    if let Some(au) = &r.active_users {
        let _ = writeln!(
            out,
            "\nActive users ({} days; active events: {}); stickiness DAU/MAU {}",
            i.time_zone,
            r.active_events.join(", "),
            pct(au.stickiness)
        );
        let rows: Vec<Vec<String>> = au
            .series
            .iter()
            .map(|d| {
                vec![
                    telemetry_analysis::date(d.day),
                    d.dau.to_string(),
                    d.wau.to_string(),
                    d.mau.to_string(),
                    pct(d.stickiness),
                ]
            })
            .collect();
        table(&mut out, &["day", "DAU", "WAU", "MAU", "DAU/MAU"], &rows);
        if !au.groups.is_empty() {
            out.push('\n');
            let rows: Vec<Vec<String>> = au
                .groups
                .iter()
                .map(|g| {
                    vec![
                        g.group.clone(),
                        g.users.to_string(),
                        g.dau.to_string(),
                        g.wau.to_string(),
                        g.mau.to_string(),
                    ]
                })
                .collect();
            table(&mut out, &["by", "users", "DAU", "WAU", "MAU"], &rows);
        }
    }
    if let Some(ret) = &r.retention {
        let width = ret.on_day.len().min(8);
        let _ = writeln!(
            out,
            "\nRetention by first-seen day (share of the cohort active on day N)"
        );
        let mut header: Vec<String> = vec!["cohort".into(), "users".into()];
        header.extend((0..width).map(|n| format!("day {n}")));
        let mut rows: Vec<Vec<String>> = ret
            .cohorts
            .iter()
            .map(|c| {
                let mut row = vec![telemetry_analysis::date(c.day), c.users.to_string()];
                row.extend((0..width).map(|n| {
                    c.on_day
                        .get(n)
                        .map_or(String::new(), |v| pct(*v as f64 / c.users as f64))
                }));
                row
            })
            .collect();
        for (label, values) in [
            ("all: on day N", &ret.on_day),
            ("all: on or after", &ret.on_or_after_day),
        ] {
            let mut row = vec![label.to_owned(), String::new()];
            row.extend(values.iter().take(width).map(|v| pct(*v)));
            rows.push(row);
        }
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        table(&mut out, &header, &rows);
    }
    if !r.churn.is_empty() {
        let _ = writeln!(
            out,
            "\nChurn (active in the previous period, not in this one)"
        );
        let rows: Vec<Vec<String>> = r
            .churn
            .iter()
            .map(|c| {
                vec![
                    format!("{} ({}d)", telemetry_analysis::date(c.period_start), c.days),
                    c.active.to_string(),
                    c.previous.to_string(),
                    c.churned.to_string(),
                    pct(c.rate),
                ]
            })
            .collect();
        table(
            &mut out,
            &["period", "active", "previous", "churned", "churn"],
            &rows,
        );
    }
    for f in &r.funnels {
        let median = f.median_seconds_to_convert.map_or("-".to_owned(), duration);
        let _ = writeln!(
            out,
            "\nFunnel `{}` (window {}): {} of {} users converted ({}), median time to convert {median}",
            f.name,
            f.window,
            f.converted,
            f.steps.first().map_or(0, |s| s.users),
            pct(f.conversion)
        );
        let rows: Vec<Vec<String>> = f
            .steps
            .iter()
            .enumerate()
            .map(|(n, s)| {
                vec![
                    format!("{}. {}", n + 1, s.step),
                    s.users.to_string(),
                    pct(s.conversion_from_previous),
                    pct(s.conversion_from_first),
                    s.dropped.to_string(),
                ]
            })
            .collect();
        table(
            &mut out,
            &["step", "users", "from prev", "from first", "dropped"],
            &rows,
        );
        if !f.breakdown.is_empty() {
            let rows: Vec<Vec<String>> = f
                .breakdown
                .iter()
                .map(|(g, counts)| {
                    let mut row = vec![g.clone()];
                    row.extend(counts.iter().map(u64::to_string));
                    row
                })
                .collect();
            let mut header = vec!["breakdown".to_owned()];
            header.extend((1..=f.steps.len()).map(|n| format!("step {n}")));
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            table(&mut out, &header, &rows);
        }
    }
    for (title, list) in [
        ("instrumented function", &r.reliability.functions),
        ("event", &r.reliability.events),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\nReliability per {title} (latency in ms)");
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|f| {
                let (p50, p90, p99) =
                    f.latency_ms
                        .map_or(("-".into(), "-".into(), "-".into()), |p| {
                            let mark = if p.exact { "" } else { "~" };
                            (
                                format!("{mark}{}", ms(p.p50)),
                                format!("{mark}{}", ms(p.p90)),
                                format!("{mark}{}", ms(p.p99)),
                            )
                        });
                vec![
                    f.name.clone(),
                    f.calls.to_string(),
                    f.errors.to_string(),
                    f.panics.to_string(),
                    f.cancelled.to_string(),
                    pct(f.error_rate),
                    p50,
                    p90,
                    p99,
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                title,
                "calls",
                "errors",
                "panics",
                "cancelled",
                "error rate",
                "p50",
                "p90",
                "p99",
            ],
            &rows,
        );
    }
    out
}

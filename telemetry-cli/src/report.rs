//! `telemetry report`: every metric the catalog defines (active users from `active`
//! events, retention and churn, its funnels, reliability of instrumented functions),
//! computed by `telemetry-analysis` while streaming the records.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use telemetry_analysis::{Analyzer, Options, Report};
use telemetry_core::catalog::{Funnel, FunnelStep, parse_window};

use crate::Format;
use crate::input::{Failure, print, read_catalog};

/// Arguments of `telemetry report`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The JSONL event file (`-`: standard input).
    events: PathBuf,
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
    let mut analyzer = Analyzer::new(options);
    let reader: Box<dyn BufRead> = if args.events.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let file = File::open(&args.events).map_err(|e| {
            Failure(format!(
                "cannot read the events `{}`: {e}; give the JSONL file the program writes",
                args.events.display()
            ))
        })?;
        Box::new(BufReader::new(file))
    };
    let mut line = Vec::new();
    let mut reader = reader;
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => analyzer.add_line(&String::from_utf8_lossy(&line)),
            Err(e) => {
                return Err(Failure(format!(
                    "cannot read `{}`: {e}",
                    args.events.display()
                )));
            }
        }
    }
    let report = analyzer.finish();
    match args.format {
        Format::Json => print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report).expect("the report is plain data")
        )),
        Format::Text => print(&text(&report)),
    }
    Ok(ExitCode::SUCCESS)
}

/// A duration in the largest unit that keeps it readable (`850 ms`, `42.0 s`, `10.0 min`, `3.5 h`).
fn duration(seconds: f64) -> String {
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
        "{} records from {} to {}; {} malformed lines, {} records without a user, {} of unknown events",
        i.records,
        i.first_day.as_deref().unwrap_or("-"),
        i.last_day.as_deref().unwrap_or("-"),
        i.malformed_lines,
        i.missing_user,
        i.unknown_events.values().sum::<u64>(),
    );
    if !i.malformed_examples.is_empty() {
        let lines: Vec<String> = i.malformed_examples.iter().map(u64::to_string).collect();
        let _ = writeln!(out, "malformed lines (first): {}", lines.join(", "));
    }
    if let Some(au) = &r.active_users {
        let _ = writeln!(
            out,
            "\nActive users (UTC days; active events: {}); stickiness DAU/MAU {}",
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

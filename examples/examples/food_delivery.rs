//! Five weeks of a food-delivery app, simulated, with typed telemetry.
//!
//! ```text
//! cargo run --example food_delivery [-- <output folder> [seed] [customers]]
//! ```
//!
//! Writes `events.jsonl` and `catalog.json` to the folder (by default
//! `target/food-delivery/` of the workspace) and prints what they contain. The events
//! are defined in `examples/src/events.rs`, the customers' behaviour in
//! `examples/src/sim.rs`.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use examples::{DEFAULT_SEED, DEFAULT_USERS, Summary};
use telemetry_core::Record;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let out_dir = match args.next() {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .ok_or("the examples crate has no parent folder")?
            .join("target")
            .join("food-delivery"),
    };
    let seed = match args.next() {
        Some(s) => s.parse().map_err(|e| format!("seed `{s}`: {e}"))?,
        None => DEFAULT_SEED,
    };
    let users = match args.next() {
        Some(s) => s
            .parse()
            .map_err(|e| format!("number of customers `{s}`: {e}"))?,
        None => DEFAULT_USERS,
    };

    let started = Instant::now();
    let summary = examples::run(&out_dir, seed, users)?;
    let elapsed = started.elapsed();
    print_summary(&summary, &out_dir, elapsed.as_secs_f64())
}

fn print_summary(s: &Summary, out_dir: &Path, seconds: f64) -> Result<(), Box<dyn Error>> {
    let dir = shown(out_dir);
    println!(
        "Food delivery: {} customers over {} simulated days (seed {}), simulated in {seconds:.2} s",
        s.users, s.days, s.seed
    );
    println!("Output folder: {dir}");

    println!();
    println!(
        "Events: {} records in {} app sessions ({} emitted, {} lost)",
        s.records, s.sessions, s.emitted, s.lost
    );
    let mut counts: Vec<(&String, &usize)> = s.counts.iter().collect();
    counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let widest = counts.first().map_or(1, |(_, n)| **n).max(1);
    for (name, n) in counts {
        println!("  {name:<20} {n:>6}  {}", bar(*n, widest, 30));
    }

    println!();
    println!("Ordering funnel (sessions; a step counts once every step before it happened)");
    let first = s.funnel.first().map_or(0, |f| f.sessions);
    let mut previous = None;
    for step in &s.funnel {
        let drop = match previous {
            Some(p) if p > 0 => format!(
                "  -{:.1}% from the previous step",
                percent(p - step.sessions, p)
            ),
            _ => String::new(),
        };
        println!(
            "  {:<18} {:<19} {:>6} {:>6.1}%{drop}",
            step.label,
            step.event,
            step.sessions,
            percent(step.sessions, first)
        );
        previous = Some(step.sessions);
    }
    println!(
        "  (\"order again\" skips search and menus: {} orders were refilled that way)",
        s.count("order_again.used")
    );

    println!();
    let attempts: usize = s.payments.iter().map(|m| m.attempts).sum();
    let failed: usize = s.payments.iter().map(|m| m.failed).sum();
    println!(
        "Payments: {attempts} attempts, {failed} failed ({:.1}%)",
        percent(failed, attempts)
    );
    println!(
        "  {:<18} {:>8} {:>8} {:>7}",
        "method", "attempts", "failed", "rate"
    );
    let mut payments = s.payments.clone();
    payments.sort_by_key(|m| std::cmp::Reverse(m.attempts));
    for m in &payments {
        println!(
            "  {:<18} {:>8} {:>8} {:>6.1}%",
            m.method,
            m.attempts,
            m.failed,
            percent(m.failed, m.attempts)
        );
    }
    let mut reasons: Vec<(&String, &usize)> = s.failures_by_reason.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let reasons: Vec<String> = reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
    println!("  failure reasons: {}", reasons.join(", "));
    let calls: Vec<String> = s
        .provider_calls
        .iter()
        .map(|(outcome, c)| {
            format!(
                "{outcome} {} (avg {:.3} ms)",
                c.calls,
                c.total_ms / c.calls.max(1) as f64
            )
        })
        .collect();
    println!(
        "  provider calls (#[instrument_event] on `charge`): {}",
        calls.join(", ")
    );
    println!(
        "  {} sessions crashed (a panic in the wallet SDK, caught at the top of the session)",
        s.crashed_sessions
    );

    println!();
    println!("Personal data, as written: one `user.signed_in` record");
    if let Some(line) = &s.sample_record {
        println!("  {line}");
        let record = Record::from_json(line)?;
        for p in s.pii_properties.iter().filter(|p| p.event == record.name) {
            let written = match record.properties.get(&p.property) {
                Some(v) => format!("\"{v}\""),
                None => "absent".to_owned(),
            };
            let declared = format!("pii = \"{}\"", p.handling.as_str());
            println!("  {:<10} {declared:<16} -> {written}", p.property);
        }
    }
    println!("  (the customer signs in during this session, so its context has no user_id yet;");
    println!("  their later sessions carry it)");
    let pii: Vec<String> = s
        .pii_properties
        .iter()
        .map(|p| format!("{}.{} ({})", p.event, p.property, p.handling.as_str()))
        .collect();
    println!("  every personal data property: {}", pii.join(", "));

    println!();
    println!(
        "Catalog: {} events, {} emit! call sites, {} personal data properties -> {}",
        s.catalog_events,
        s.call_sites,
        s.pii_properties.len(),
        shown(&s.catalog_path)
    );
    if s.problems.is_empty() {
        println!("Validation: no problems");
    } else {
        println!("Validation: {} problems", s.problems.len());
        for problem in &s.problems {
            println!("  {problem}");
        }
    }

    println!();
    println!("Next steps");
    println!(
        "  cat {dir}/catalog.json                  # the tracking plan, generated from examples/src/events.rs"
    );
    println!("  head -n 3 {dir}/events.jsonl            # the records");
    println!("  grep -c payment.failed {dir}/events.jsonl");
    println!("  cargo run --example food_delivery -- /tmp/food 7 1000   # folder, seed, customers");
    Ok(())
}

/// `path` relative to the current folder when it is inside it.
fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

fn bar(n: usize, max: usize, width: usize) -> String {
    "#".repeat((n * width).div_ceil(max))
}

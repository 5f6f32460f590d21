//! `telemetry report --postgres`: the same events in a JSONL file and in the table of
//! the PostgreSQL sink give the same report, number for number.
//!
//! The events are loaded through `telemetry_core::export::Postgres` (records read back
//! from the file), into a throw-away cluster (`telemetry_test_support::pg`).

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::{fixture, fixture_path, telemetry, text};
use serde_json::Value;
use telemetry_core::Record;
use telemetry_core::Sink;
use telemetry_core::export::Postgres;
use telemetry_test_support::pg;

/// A small deterministic generator (a linear congruential one).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// `true` with probability `p` percent.
    fn chance(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Two months of a food-delivery app: 70 users (some anonymous only, some sampled,
/// with a numeric `tier`), arriving over the first six weeks, active on fewer days as time passes
/// (with whole days without anyone), going through the `ordering` funnel in and out
/// of order and of its window, instrumented payments that fail in every way, events
/// without any user and events missing from the catalog.
fn generate() -> String {
    const START_MS: u64 = 1_790_812_800_000; // 2026-10-01T00:00:00Z
    const DAY: u64 = 86_400_000;
    let mut rng = Lcg(42);
    let mut events: Vec<(u64, String, String, String)> = Vec::new(); // (ms, name, properties, context/call tail)
    for user in 0..70u64 {
        let id = if user % 7 == 3 {
            format!(r#""anonymous_id":"anon-{user:02}""#)
        } else {
            format!(r#""anonymous_id":"anon-{user:02}","user_id":"user-{user:02}""#)
        };
        let os = rng.pick(&["linux", "macos", "windows"]);
        let version = rng.pick(&["1.4.0", "1.5.0"]);
        // Sampled users: every event kept at 1/2; or only their payments at 1/4.
        let rate = if user % 5 == 1 {
            r#","sample_rate":0.5"#
        } else {
            ""
        };
        let context = format!(
            r#""context":{{"app_name":"food","app_version":"{version}",{id},"os":"{os}","arch":"x86_64"}}{rate}"#
        );
        let call_rate = if user % 5 == 2 {
            r#","sample_rate":0.25"#
        } else {
            ""
        };
        let first_day = rng.next() % 42;
        let mut keep = 90;
        for day in first_day..60 {
            // Days 20 and 21: nobody at all.
            if day == 20 || day == 21 || (day != first_day && !rng.chance(keep)) {
                continue;
            }
            keep = (keep * 9 / 10).max(8);
            let mut t = START_MS + day * DAY + rng.next() % (20 * 3_600_000);
            let tier = rng.next() % 3;
            events.push((
                t,
                "app.opened".into(),
                format!(r#"{{"tier":{tier}}}"#),
                context.clone(),
            ));
            if rng.chance(70) {
                let source = rng.pick(&["home", "push", "search"]);
                events.push((
                    t,
                    "search.performed".into(),
                    format!(r#"{{"source":"{source}"}}"#),
                    context.clone(),
                ));
                // Same millisecond as the search sometimes; past the 1h window sometimes.
                t += rng
                    .pick(&["0", "60000", "900000", "4000000"])
                    .parse::<u64>()
                    .unwrap();
                if rng.chance(75) {
                    events.push((t, "cart.item_added".into(), "{}".into(), context.clone()));
                    if rng.chance(80) {
                        let method = rng.pick(&["upi", "card", "upi"]);
                        let back = rng.chance(15);
                        let at = if back {
                            t - 1
                        } else {
                            t + rng.next() % 1_800_000
                        };
                        events.push((
                            at,
                            "payment.completed".into(),
                            format!(r#"{{"method":"{method}"}}"#),
                            context.clone(),
                        ));
                    }
                }
            }
            for _ in 0..rng.next() % 3 {
                let function = rng.pick(&["shop::pay", "shop::pay", "shop::refund"]);
                let (outcome, kind) = match rng.next() % 10 {
                    0 | 1 => ("error", r#","error_kind":"CardDeclined""#),
                    2 => ("error", r#","error_kind":"Timeout""#),
                    3 => ("error", ""),
                    4 => ("panicked", ""),
                    5 => ("cancelled", ""),
                    _ => ("ok", ""),
                };
                let ms = rng.next() % 500_000;
                let duration = format!("{}.{:03}", ms / 1000, ms % 1000);
                t += 1000;
                events.push((
                    t,
                    "payment.charged".into(),
                    "{}".into(),
                    format!(
                        r#"{context}{call_rate},"call":{{"function":"{function}","duration_ms":{duration},"outcome":"{outcome}"{kind}}}"#
                    ),
                ));
            }
        }
    }
    // Without any user, and not in the catalog.
    for i in 0..5u64 {
        let t = START_MS + i * 9 * DAY + 5_000;
        // One with a sample rate out of range (counted as unsampled).
        let context = if i == 0 {
            r#""context":{"app_name":"food","app_version":"1.4.0","os":"linux","arch":"x86_64"},"sample_rate":0"#
        } else {
            r#""context":{"app_name":"food","app_version":"1.4.0","os":"linux","arch":"x86_64"}"#
        };
        events.push((t, "app.opened".into(), "{}".into(), context.into()));
        events.push((
            t + 1,
            "coupon.applied".into(),
            "{}".into(),
            r#""context":{"app_name":"food","app_version":"1.4.0","user_id":"user-00","os":"linux","arch":"x86_64"}"#.into(),
        ));
    }
    // Records need not be in time order; ids follow the file order.
    let mut out = String::new();
    for (n, (ms, name, properties, tail)) in events.iter().enumerate() {
        let at = telemetry_core::record::Timestamp::from_unix_millis(*ms);
        let _ = writeln!(
            out,
            r#"{{"format":1,"type":"event","id":"019a0000-0000-7000-8000-{n:012x}","timestamp":"{at}","name":"{name}","version":1,"properties":{properties},{tail}}}"#
        );
    }
    out
}

/// Loads every record of `jsonl` into `table` through the sink, in batches.
fn load(url: &str, table: &str, jsonl: &str) -> usize {
    let records: Vec<Record> = jsonl
        .lines()
        .filter_map(|l| Record::from_json(l).ok())
        .collect();
    let mut sink = Postgres::new(url).table(table);
    for batch in records.chunks(100) {
        sink.write(batch).expect("the sink writes");
    }
    records.len()
}

fn report_json(args: &[&str]) -> Value {
    let mut all = vec!["report"];
    all.extend(args);
    all.extend(["--format", "json"]);
    let out = telemetry(&all);
    assert!(
        out.status.success(),
        "telemetry {all:?}: {}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the report is JSON")
}

/// The input fields only a file has (lines that are not events, where things were).
fn without_file_details(mut report: Value) -> Value {
    let input = report["input"].as_object_mut().expect("an input object");
    for key in [
        "lines",
        "malformed_lines",
        "malformed_examples",
        "malformed_at",
        "unknown_events_at",
        "missing_user_at",
        "files",
        "read_errors",
    ] {
        input.remove(key);
    }
    report
}

/// The first path where two JSON values differ.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let (u, v) = (
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                );
                if let Some(d) = first_difference(u, v, &format!("{path}.{key}")) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_difference(u, v, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} (file) vs {b} (postgres)")),
    }
}

fn assert_same_report(file: &Path, url: &str, table: &str, args: &[&str]) {
    let file = file.to_str().unwrap();
    let mut from_file = vec![file];
    from_file.extend(args);
    let mut from_pg = vec!["--postgres", url, "--table", table];
    from_pg.extend(args);
    let a = without_file_details(report_json(&from_file));
    let b = without_file_details(report_json(&from_pg));
    if let Some(d) = first_difference(&a, &b, "report") {
        panic!("{args:?}: {d}");
    }
}

#[test]
fn postgres_and_jsonl_reports_agree() {
    let Some(server) = pg::start_or_skip("postgres_and_jsonl_reports_agree") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("generated.jsonl");
    let jsonl = generate();
    std::fs::write(&generated, &jsonl).unwrap();
    let loaded = load(&server.url(), "generated", &jsonl);
    assert!(loaded > 1_000, "{loaded} events");
    let small = fixture_path("report-events.jsonl");
    load(
        &server.url(),
        "small",
        &std::fs::read_to_string(&small).unwrap(),
    );

    let catalog = fixture("report-catalog.json");
    let url = server.url();
    for (file, table) in [(&generated, "generated"), (&small, "small")] {
        assert_same_report(file, &url, table, &["--catalog", &catalog]);
        assert_same_report(
            file,
            &url,
            table,
            &[
                "--funnel",
                "search.performed,cart.item_added,payment.completed",
                "--window",
                "30m",
                "--breakdown",
                "source",
                "--by",
                "os",
                "--churn-days",
                "3",
            ],
        );
        assert_same_report(file, &url, table, &["--by", "tier", "--churn-days", "10"]);
        assert_same_report(
            file,
            &url,
            table,
            &[
                "--tz",
                "Asia/Kolkata",
                "--by",
                "app_version",
                "--catalog",
                &catalog,
            ],
        );
        assert_same_report(file, &url, table, &["--tz", "America/New_York"]);
        assert_same_report(
            file,
            &url,
            table,
            &["--catalog", &catalog, "--by", "context.locale"],
        );
    }

    // No events at all: an empty file and an empty table.
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    Postgres::new(server.url())
        .table("empty")
        .connected()
        .expect("the sink creates its table");
    assert_same_report(
        &empty,
        &url,
        "empty",
        &["--catalog", &catalog, "--by", "os"],
    );

    // The numbers are not trivially equal: the generated data exercises every part.
    let report = report_json(&[
        "--postgres",
        &url,
        "--table",
        "generated",
        "--catalog",
        &catalog,
    ]);
    let series = report["active_users"]["series"].as_array().unwrap();
    assert_eq!(series.len(), 60);
    assert_eq!(series[20]["dau"], 0, "a day without anyone");
    assert!(report["retention"]["cohorts"].as_array().unwrap().len() > 20);
    assert!(report["churn"].as_array().unwrap().len() >= 8);
    let funnel = &report["funnels"][0];
    assert!(funnel["converted"].as_u64().unwrap() > 5, "{funnel}");
    assert!(
        funnel["steps"][2]["dropped"].as_u64().unwrap() > 0,
        "{funnel}"
    );
    let pay = &report["reliability"]["functions"][0];
    assert_eq!(pay["name"], "shop::pay");
    assert!(pay["errors"].as_u64().unwrap() > 10, "{pay}");
    assert!(
        pay["error_kinds"]["(unknown)"].as_u64().unwrap() > 0,
        "{pay}"
    );
    assert!(report["input"]["missing_user"].as_u64().unwrap() == 5);
    assert!(report["input"]["unknown_events"]["coupon.applied"] == 5);
    assert_eq!(report["input"]["invalid_sample_rate"], 1);
    assert!(
        report["input"]["sampled"]["0.5"].as_u64().unwrap() > 50,
        "{}",
        report["input"]
    );
    assert!(
        report["input"]["sampled"]["0.25"].as_u64().unwrap() > 10,
        "{}",
        report["input"]
    );

    // Text output goes through the same renderer, and so does the HTML page.
    let html = dir.path().join("report.html");
    let out = telemetry(&[
        "report",
        "--postgres",
        &url,
        "--table",
        "small",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(&html).expect("the HTML page is written");
    assert!(page.contains("food::pay::charge"), "{page}");
    let file_out = telemetry(&["report", small.to_str().unwrap()]);
    let (pg_text, file_text) = (text(&out.stdout), text(&file_out.stdout));
    // From the first table on: the lines above it describe the input (the file has a
    // malformed line the table cannot hold).
    let tables = |s: &str| {
        s.split_once("\nActive users")
            .map(|(_, rest)| rest.to_owned())
            .unwrap_or_else(|| panic!("no active users table in\n{s}"))
    };
    assert_eq!(tables(&pg_text), tables(&file_text));
}

#[test]
fn postgres_errors_name_the_database_and_what_to_do() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/analytics");
    let out = telemetry(&["report", "--postgres", &url]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("postgres://app:***@127.0.0.1:{port}/analytics")),
        "{err}"
    );
    assert!(err.contains("check that the server runs"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");

    let Some(server) = pg::start_or_skip("postgres_errors_name_the_database_and_what_to_do") else {
        return;
    };
    let out = telemetry(&["report", "--postgres", &server.url(), "--table", "missing"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("table missing"), "{err}");
    assert!(err.contains("--table"), "{err}");
    // A file and a database at once is a usage error.
    let out = telemetry(&[
        "report",
        &fixture("report-events.jsonl"),
        "--postgres",
        &server.url(),
    ]);
    assert!(!out.status.success());
}

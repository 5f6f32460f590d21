//! `telemetry report` on a small hand-made fixture whose every number is checked by
//! hand: 4 users over 4 days, a funnel with a UPI filter and a 1 h window (one user
//! converts in 10 minutes, one a millisecond too late), two instrumented calls that
//! fail, a broken line, a record without a user and an event the catalog lacks.

mod common;

use common::{fixture, golden, telemetry, text};

fn report(extra: &[&str]) -> std::process::Output {
    let events = fixture("report-events.jsonl");
    let catalog = fixture("report-catalog.json");
    let mut args = vec!["report", &events, "--catalog", &catalog];
    args.extend_from_slice(extra);
    telemetry(&args)
}

#[test]
fn text_report_of_everything_the_catalog_defines() {
    let out = report(&["--breakdown", "source", "--churn-days", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    golden("report.txt", &text(&out.stdout));
}

#[test]
fn json_report_is_stable() {
    let out = report(&["--format", "json", "--churn-days", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["funnels"][0]["converted"], 1);
    assert_eq!(json["input"]["malformed_lines"], 1);
    golden("report.json", &stdout);
}

#[test]
fn ad_hoc_funnel_and_split_by_a_context_field() {
    let out = telemetry(&[
        "report",
        &fixture("report-events.jsonl"),
        "--funnel",
        "search.performed, cart.item_added,payment.completed",
        "--window",
        "2h",
        "--by",
        "os",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // Without the filter and with a 2 h window, ben and dev convert too.
    assert!(
        stdout.contains("Funnel `adhoc_1` (window 2h): 3 of 4 users converted (75.0%)"),
        "{stdout}"
    );
    // Without a catalog every event counts as activity, nothing is unknown.
    assert!(stdout.contains("0 of unknown events"), "{stdout}");
    assert!(stdout.contains("  linux      4"), "{stdout}");
}

#[test]
fn bad_input_is_reported() {
    let out = telemetry(&["report", "tests/fixtures/missing.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read the events"));
    let out = telemetry(&["report", &fixture("report-events.jsonl"), "--funnel", "a.b"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("fewer than two steps"));
    let out = telemetry(&[
        "report",
        &fixture("report-events.jsonl"),
        "--funnel",
        "a.b,c.d",
        "--window",
        "1 day",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--window"));
}

#[test]
fn docs_and_lint_list_the_catalog_funnels() {
    let out = telemetry(&[
        "catalog",
        "docs",
        &fixture("report-catalog.json"),
        "--format",
        "markdown",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let md = text(&out.stdout);
    assert!(md.contains("## Funnels\n\n#### ordering"), "{md}");
    assert!(
        md.contains("3. [`payment.completed`](#paymentcompleted) where `method` = `\"upi\"`"),
        "{md}"
    );
    assert!(md.contains("counts its user as active"), "{md}");

    // A funnel naming an event the plan lacks is a lint error.
    let dir = std::env::temp_dir().join(format!("telemetry-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("catalog.json");
    let json = std::fs::read_to_string(common::fixture_path("report-catalog.json"))
        .unwrap()
        .replace(
            "\"event\": \"cart.item_added\"",
            "\"event\": \"cart.added\"",
        );
    std::fs::write(&broken, json).unwrap();
    let out = telemetry(&["catalog", "lint", broken.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("invalid-funnel"), "{stdout}");
    assert!(
        stdout.contains("`cart.added`, which is not in the catalog"),
        "{stdout}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

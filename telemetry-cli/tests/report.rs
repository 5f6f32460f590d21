//! `telemetry report` on a small hand-made fixture whose every number is checked by
//! hand: 4 users over 4 days, a funnel with a UPI filter and a 1 h window (one user
//! converts in 10 minutes, one a millisecond too late), two instrumented calls that
//! fail, a broken line, a record without a user and an event the catalog lacks. Also
//! how `catalog docs`, `lint` and `diff` show the catalog's funnels.

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

#[test]
fn catalog_diff_shows_funnel_changes() {
    let dir = tempfile::tempdir().unwrap();
    let old = common::fixture_path("report-catalog.json");
    let mut catalog: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&old).unwrap()).unwrap();
    // The window goes from 1h to 2h, the filter of the last step is dropped, and a
    // second funnel appears.
    let funnel = &mut catalog["funnels"][0];
    funnel["window"] = "2h".into();
    funnel["steps"][2] = serde_json::json!({"event": "payment.completed"});
    let added = serde_json::json!({
        "name": "activation", "description": "Opened, then searched.", "owner": "growth",
        "window": "1d", "steps": [{"event": "app.opened"}, {"event": "search.performed"}]
    });
    catalog["funnels"].as_array_mut().unwrap().push(added);
    let new = dir.path().join("new.json");
    std::fs::write(&new, serde_json::to_string_pretty(&catalog).unwrap()).unwrap();
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());

    let out = telemetry(&["catalog", "diff", old, new]);
    assert_eq!(out.status.code(), Some(0), "funnels break no record");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("no event changes"), "{stdout}");
    assert!(stdout.contains("funnel activation (added)"), "{stdout}");
    assert!(
        stdout.contains("funnel added: `app.opened` -> `search.performed` within 1d"),
        "{stdout}"
    );
    assert!(stdout.contains("funnel ordering (changed)"), "{stdout}");
    assert!(
        stdout.contains(
            "steps changed: `search.performed` -> `cart.item_added` -> `payment.completed` where method = \"upi\" => `search.performed` -> `cart.item_added` -> `payment.completed`"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("window changed from 1h to 2h"), "{stdout}");

    let out = telemetry(&["catalog", "diff", "--format", "json", old, new]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let funnels = json["funnels"].as_array().unwrap();
    assert_eq!(funnels.len(), 2);
    assert_eq!(funnels[0]["funnel"], "activation");
    assert_eq!(funnels[0]["status"], "added");
    assert_eq!(funnels[1]["status"], "changed");
    assert_eq!(funnels[1]["changes"].as_array().unwrap().len(), 2);

    let out = telemetry(&["catalog", "diff", "--format", "markdown", old, new]);
    let md = text(&out.stdout);
    assert!(md.contains("### Funnels"), "{md}");
    assert!(
        md.contains("| `ordering` | changed | steps changed"),
        "{md}"
    );

    // Unchanged funnels are not listed.
    let out = telemetry(&["catalog", "diff", "--format", "json", old, old]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.get("funnels").is_none());
}

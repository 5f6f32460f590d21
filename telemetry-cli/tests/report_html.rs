//! `telemetry report --html`: one self-contained page whose charts render in headless
//! Chromium without console errors; a screenshot is kept under the target directory.

mod common;

use std::path::Path;

use common::browser::{body_attr, chromium_or_skip, loaded_dom, screenshot};
use common::{fixture, telemetry, text};

/// Writes the fixture's dashboard and returns its path and text.
fn dashboard(dir: &Path) -> (std::path::PathBuf, String) {
    let page = dir.join("report.html");
    let out = telemetry(&[
        "report",
        &fixture("report-events.jsonl"),
        "--catalog",
        &fixture("report-catalog.json"),
        "--churn-days",
        "2",
        "--breakdown",
        "source",
        "--html",
        page.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The text report is still printed.
    assert!(text(&out.stdout).contains("Funnel `ordering`"));
    let html = std::fs::read_to_string(&page).unwrap();
    (page, html)
}

#[test]
fn page_is_self_contained_and_holds_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = dashboard(dir.path());
    assert!(html.starts_with("<!doctype html>"));
    for remote in ["http://", "https://", "src=", "<link", "@import"] {
        assert!(!html.contains(remote), "the page must not load `{remote}`");
    }
    for chart in [
        "data-chart=\"active-users\"",
        "data-chart=\"retention\"",
        "data-chart=\"funnel\" data-funnel=\"ordering\"",
        "data-chart=\"churn\"",
        "data-chart=\"errors-function\"",
        "data-chart=\"errors-event\"",
        "data-chart=\"latency\"",
    ] {
        assert!(html.contains(chart), "missing {chart}");
    }
    // The numbers of the hand-checked fixture: DAU 3 on the first day, the funnel's
    // 4 -> 3 -> 1 users with 2 lost at the payment step, day-1 retention 33.3%.
    assert!(html.contains("<title>DAU 2026-11-20: 3</title>"), "{html}");
    assert!(html.contains("<b>4</b> 100.0%"));
    assert!(html.contains("<b>3</b> 75.0%"));
    assert!(html.contains("&minus;2 (66.7% of the previous step)"));
    assert!(html.contains("title=\"1 of 3 users\">33.3%</td>"));
    // Input problems are listed at the top.
    assert!(html.contains("1 malformed lines skipped"));
}

#[test]
fn names_from_the_data_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let events = std::fs::read_to_string(common::fixture_path("report-events.jsonl"))
        .unwrap()
        .replace(
            "\"source\":\"home\"",
            "\"source\":\"<script>alert(1)</script>\"",
        );
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, events).unwrap();
    let page = dir.path().join("report.html");
    let out = telemetry(&[
        "report",
        path.to_str().unwrap(),
        "--catalog",
        &fixture("report-catalog.json"),
        "--breakdown",
        "source",
        "--html",
        page.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(page).unwrap();
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn unwritable_page_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let out = telemetry(&[
        "report",
        &fixture("report-events.jsonl"),
        "--html",
        blocker.join("report.html").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("choose a writable output path"));
}

#[test]
fn dashboard_renders_in_headless_chromium() {
    let Some(browser) = chromium_or_skip("dashboard_renders_in_headless_chromium") else {
        return;
    };
    let artefacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("telemetry-report");
    std::fs::create_dir_all(&artefacts).unwrap();
    let (page, _) = dashboard(&artefacts);
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    let dom = loaded_dom(&browser, profile.path(), &url);
    // Active users, retention, one funnel, churn, errors per function and per event,
    // latency.
    assert_eq!(body_attr(&dom, "charts").as_deref(), Some("7"));
    assert_eq!(dom.matches("<svg class=\"chart\"").count(), 3);
    assert!(dom.contains("<path class=\"line\""));

    let shot = artefacts.join("report.png");
    screenshot(&browser, profile.path(), &url, "1200,2400", &shot);
}

//! `telemetry catalog docs`: the Markdown golden file, and the HTML page in headless
//! Chromium (no console errors, the search filters events, a screenshot is kept).

mod common;
use std::path::Path;

use common::browser::{body_attr, chromium_or_skip, headless, loaded_dom, screenshot};
use common::*;

#[test]
fn markdown_groups_events_by_category_and_owner() {
    let out = telemetry(&[
        "catalog",
        "docs",
        "--format",
        "markdown",
        &fixture("diff-new.json"),
    ]);
    assert!(out.status.success());
    golden("docs.md", &text(&out.stdout));
}

#[test]
fn html_is_one_self_contained_page() {
    let out = telemetry(&[
        "catalog",
        "docs",
        "--format",
        "html",
        &fixture("lint-all.json"),
    ]);
    assert!(out.status.success());
    let html = text(&out.stdout);
    assert!(html.starts_with("<!doctype html>"));
    for needle in [
        "<input id=\"search\"",
        "Owner: <span class=\"owner\">growth</span>",
        "personal data",
        "never sent",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    // No network: nothing is loaded from anywhere.
    for remote in ["http://", "https://", "src=", "<link"] {
        assert!(!html.contains(remote), "the page must not load `{remote}`");
    }
    // Text from the catalog is escaped, never interpreted.
    let dir = tempfile::tempdir().unwrap();
    let catalog = std::fs::read_to_string(fixture_path("clean.json"))
        .unwrap()
        .replace(
            "The app came to the foreground.",
            "Shown <script>alert(1)</script> & `code`.",
        );
    let path = dir.path().join("catalog.json");
    std::fs::write(&path, catalog).unwrap();
    let page = text(
        &telemetry(&[
            "catalog",
            "docs",
            "--format",
            "html",
            path.to_str().unwrap(),
        ])
        .stdout,
    );
    assert!(!page.contains("<script>alert"), "unescaped description");
    assert!(
        page.contains("Shown &lt;script&gt;alert(1)&lt;/script&gt; &amp; <code>code</code>."),
        "{page}"
    );
}

#[test]
fn html_page_works_in_headless_chromium() {
    let Some(browser) = chromium_or_skip("html_page_works_in_headless_chromium") else {
        return;
    };
    let artefacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("telemetry-docs");
    std::fs::create_dir_all(&artefacts).unwrap();
    let page = artefacts.join("plan.html");
    let out = telemetry(&[
        "catalog",
        "docs",
        "--format",
        "html",
        &fixture("diff-new.json"),
        "--out",
        page.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());

    let dom = loaded_dom(&browser, profile.path(), &url);
    assert_eq!(
        body_attr(&dom, "visible").as_deref(),
        Some("8"),
        "all events shown"
    );

    // The search (pre-filled from `#q=`) filters events.
    let out = headless(
        &browser,
        profile.path(),
        &[
            "--virtual-time-budget=2000",
            "--dump-dom",
            &format!("{url}#q=checkout%20email"),
        ],
    );
    let dom = text(&out.stdout);
    assert_eq!(
        body_attr(&dom, "visible").as_deref(),
        Some("1"),
        "one event matches `checkout email`"
    );
    assert!(
        dom.contains("<article class=\"event\" id=\"event-checkout.started\""),
        "{dom}"
    );
    assert!(
        dom.contains("id=\"event-app.opened\" data-search=") && dom.contains("hidden=\"\""),
        "others are hidden"
    );

    let shot = artefacts.join("plan.png");
    screenshot(&browser, profile.path(), &url, "1280,1600", &shot);
}

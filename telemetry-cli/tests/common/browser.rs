//! Headless Chromium for the tests of the HTML pages: find the browser, run it on a
//! page, read the state the page's script leaves on `<body>`, take a screenshot.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Chromium binary on `PATH`, if any.
pub fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
}

/// Chromium, or `None` after saying the test is skipped; in CI a missing browser fails
/// the test.
pub fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is not installed; .ci/run installs it (apt-get install chromium)");
        }
        eprintln!(
            "SKIPPED {test}: no chromium on PATH (install it with `apt-get install chromium`)"
        );
    }
    found
}

/// Runs headless Chromium with a throwaway profile and no network services.
pub fn headless(browser: &Path, profile: &Path, args: &[&str]) -> Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium runs")
}

/// `data-<name>` of `<body>` in a dumped DOM.
pub fn body_attr(dom: &str, name: &str) -> Option<String> {
    let body = &dom[dom.find("<body")?..];
    let body = &body[..body.find('>')?];
    let key = format!("data-{name}=\"");
    let start = body.find(&key)? + key.len();
    Some(body[start..][..body[start..].find('"')?].to_string())
}

/// The DOM of the page at `url` once its script ran, after checking that the script
/// finished (`data-ready="1"` on `<body>`), reported no error and logged nothing: any
/// console message (an error, a warning) is a bug.
pub fn loaded_dom(browser: &Path, profile: &Path, url: &str) -> String {
    let out = headless(
        browser,
        profile,
        &["--virtual-time-budget=2000", "--dump-dom", url],
    );
    let dom = super::text(&out.stdout);
    let console = super::text(&out.stderr);
    assert_eq!(
        body_attr(&dom, "ready").as_deref(),
        Some("1"),
        "the page script did not finish:\n{console}"
    );
    assert_eq!(body_attr(&dom, "errors"), None, "script errors");
    assert!(
        !console.contains(":CONSOLE"),
        "console messages:\n{console}"
    );
    dom
}

/// Saves a screenshot of the page at `url` in a window of `window_size` (`width,height`)
/// to `shot`, and checks that it is a PNG image of some substance.
pub fn screenshot(browser: &Path, profile: &Path, url: &str, window_size: &str, shot: &Path) {
    let _ = std::fs::remove_file(shot);
    let out = headless(
        browser,
        profile,
        &[
            &format!("--window-size={window_size}"),
            "--virtual-time-budget=2000",
            &format!("--screenshot={}", shot.display()),
            url,
        ],
    );
    let png = std::fs::read(shot)
        .unwrap_or_else(|e| panic!("no screenshot ({e}):\n{}", super::text(&out.stderr)));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot too small"
    );
    eprintln!("screenshot: {}", shot.display());
}

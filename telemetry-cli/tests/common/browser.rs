//! Headless Chromium for the tests of the HTML pages: find the browser, run it on a
//! page, read the state the page's script leaves on `<body>`.

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

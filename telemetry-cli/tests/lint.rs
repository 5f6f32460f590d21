//! `telemetry catalog lint` and `telemetry catalog rules`: golden output and exit codes.

mod common;
use common::*;

#[test]
fn lint_reports_every_kind_of_finding_as_text_and_json() {
    let out = telemetry(&["catalog", "lint", &fixture("lint-all.json")]);
    assert_eq!(out.status.code(), Some(1), "errors make the lint fail");
    golden("lint-all.txt", &text(&out.stdout));
    let out = telemetry(&[
        "catalog",
        "lint",
        "--format",
        "json",
        &fixture("lint-all.json"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json = text(&out.stdout);
    golden("lint-all.json", &json);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    rules.sort_unstable();
    rules.dedup();
    assert_eq!(
        rules,
        [
            "case-clash",
            "duplicate-name",
            "invalid-name",
            "missing-description",
            "missing-owner",
            "never-emitted",
            "property-pii-conflict",
            "property-type-conflict",
            "trivial-description",
            "undeclared-pii",
            "undescribed-property"
        ]
    );
}

#[test]
fn configuration_changes_severities_and_options() {
    let config = fixture("telemetry.toml");
    let out = telemetry(&[
        "catalog",
        "lint",
        "--config",
        &config,
        &fixture("lint-all.json"),
    ]);
    let stdout = text(&out.stdout);
    golden("lint-all-configured.txt", &stdout);
    assert!(stdout.contains("error[never-emitted]"), "{stdout}");
    assert!(!stdout.contains("missing-owner"), "{stdout}");
    assert!(
        stdout.contains("error[undeclared-pii] user.signed_in.homeTown"),
        "personal_words: {stdout}"
    );
    let out = telemetry(&["catalog", "rules", "--config", &config]);
    assert!(out.status.success());
    golden("rules-configured.txt", &text(&out.stdout));
}

#[test]
fn clean_and_empty_catalogs() {
    let out = telemetry(&["catalog", "lint", &fixture("clean.json")]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert_eq!(
        text(&out.stdout),
        "tests/fixtures/clean.json: 1 events, 0 errors, 0 warnings\n"
    );
    let out = telemetry(&["catalog", "lint", &fixture("empty.json")]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("warning[empty-catalog]"),
        "{}",
        text(&out.stdout)
    );
    let out = telemetry(&["catalog", "lint", "--deny-warnings", &fixture("empty.json")]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_bad_configuration_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("telemetry.toml");
    std::fs::write(&config, "[lint.rules]\nnever-emited = \"off\"\n").unwrap();
    let out = telemetry(&[
        "catalog",
        "lint",
        "--config",
        config.to_str().unwrap(),
        &fixture("clean.json"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("telemetry.toml: unknown lint rule `never-emited`")
            && stderr.contains("never-emitted"),
        "{stderr}"
    );
}

#[test]
fn colours_only_when_asked_or_on_a_terminal() {
    // `telemetry()` runs with a pipe: plain text.
    let out = telemetry(&["catalog", "lint", &fixture("lint-all.json")]);
    assert!(!text(&out.stdout).contains('\x1b'));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_telemetry"))
        .args(["catalog", "lint", &fixture("lint-all.json")])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("\x1b[1m\x1b[31merror[case-clash]"),
        "{}",
        text(&out.stdout)
    );
}

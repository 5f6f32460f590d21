//! `telemetry catalog diff`: golden output in every format and exit codes.

mod common;
use common::*;

#[test]
fn diff_classifies_every_kind_of_change() {
    let (old, new) = (fixture("diff-old.json"), fixture("diff-new.json"));
    for (format, file) in [
        ("text", "diff.txt"),
        ("markdown", "diff.md"),
        ("json", "diff.json"),
    ] {
        let out = telemetry(&["catalog", "diff", "--format", format, &old, &new]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "breaking changes without a version bump fail"
        );
        golden(file, &text(&out.stdout));
    }
    let out = telemetry(&["catalog", "diff", "--format", "json", &old, &new]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut kinds: Vec<&str> = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["changes"].as_array().unwrap())
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "category-changed",
            "description-changed",
            "event-added",
            "event-removed",
            "no-longer-emitted",
            "now-emitted",
            "now-optional",
            "now-required",
            "owner-changed",
            "pii-changed",
            "property-added",
            "property-removed",
            "rust-type-changed",
            "type-changed",
            "values-added",
            "values-removed",
            "values-restricted",
            "values-unrestricted",
            "version-changed"
        ]
    );
}

#[test]
fn exit_codes_for_ci() {
    let clean = fixture("clean.json");
    let out = telemetry(&["catalog", "diff", &clean, &clean]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("no changes"));
    // Non-breaking changes pass even with --deny-breaking; adding an event is one.
    let out = telemetry(&[
        "catalog",
        "diff",
        "--deny-breaking",
        &fixture("empty.json"),
        &clean,
    ]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    // Removing it is breaking: allowed by default (nothing to bump), refused with --deny-breaking.
    let out = telemetry(&["catalog", "diff", &clean, &fixture("empty.json")]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let out = telemetry(&[
        "catalog",
        "diff",
        "--deny-breaking",
        &clean,
        &fixture("empty.json"),
    ]);
    assert_eq!(out.status.code(), Some(1));
}

//! The `telemetry` binary on good and bad input, as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

fn telemetry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_telemetry"))
        .args(args)
        .output()
        .expect("the telemetry binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CATALOG: &str = r#"{"format": 1, "events": [
  {"name": "cart.item_added", "version": 1, "description": "A dish was added.", "category": "ordering",
   "owner": "growth", "rust_type": "app::CartItemAdded",
   "properties": [{"name": "dish_id", "type": "integer", "rust_type": "u64", "optional": false,
                   "pii": "none", "description": "Dish."}],
   "call_sites": [{"file": "src/cart.rs", "line": 12, "column": 5, "module_path": "app::cart"}]},
  {"name": "legacy.unused", "version": 1, "description": "Old.", "category": "", "owner": "",
   "rust_type": "app::Legacy", "properties": [], "call_sites": []}
]}"#;

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

#[test]
fn check_passes_with_warnings_and_fails_when_warnings_are_denied() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = write(dir.path(), "catalog.json", CATALOG);
    let out = telemetry(&["catalog", "check", &catalog]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("warning[never-emitted]") && stdout.contains("0 errors, 2 warnings"),
        "{stdout}"
    );
    let out = telemetry(&["catalog", "check", "--deny-warnings", &catalog]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn show_lists_events_and_call_sites() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = write(dir.path(), "catalog.json", CATALOG);
    let out = telemetry(&["catalog", "show", &catalog]);
    let stdout = text(&out.stdout);
    assert!(out.status.success());
    assert!(
        stdout.contains("emitted at src/cart.rs:12 (app::cart)"),
        "{stdout}"
    );
}

#[test]
fn bad_input_names_the_file_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json").display().to_string();
    let out = telemetry(&["catalog", "check", &missing]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("nope.json"),
        "{}",
        text(&out.stderr)
    );

    let broken = write(dir.path(), "broken.json", "{\"format\": 1, \"events\": [");
    let out = telemetry(&["catalog", "show", &broken]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("broken.json: not a valid catalog file"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn events_count_reports_the_broken_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"format":1,"type":"event","id":"0193a5b2-7c3e-7b4a-9f1e-2d3c4b5a6978","timestamp":"2026-11-25T18:41:11.123Z","name":"cart.item_added","version":1,"properties":{"dish_id":7},"context":{"app_name":"a","app_version":"1","os":"linux","arch":"x86_64"}}"#;
    let ok = write(dir.path(), "ok.jsonl", &format!("{good}\n{good}\n"));
    let out = telemetry(&["events", "count", &ok]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("cart.item_added         2"),
        "{}",
        text(&out.stdout)
    );

    let bad = write(
        dir.path(),
        "bad.jsonl",
        &format!("{good}\n{{\"format\":1,\n"),
    );
    let out = telemetry(&["events", "count", &bad]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.jsonl:2: not a telemetry record"),
        "{stderr}"
    );
}

/// Every command that reads a catalog fails the same clear way on bad input: exit code
/// 2, the file named, a hint, never a panic.
#[test]
fn every_command_names_a_bad_catalog_and_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out").display().to_string();
    let events = write(dir.path(), "events.jsonl", "");
    let cases = [
        ("missing.json", None, "cannot read the catalog"),
        (
            "not-json.json",
            Some("this is not JSON"),
            "not a valid catalog file",
        ),
        (
            "newer.json",
            Some(r#"{"format": 2, "events": []}"#),
            "catalog format 2 is newer",
        ),
        ("empty-file.json", Some(""), "is empty"),
    ];
    for (name, contents, expected) in cases {
        let path = match contents {
            Some(c) => write(dir.path(), name, c),
            None => dir.path().join(name).display().to_string(),
        };
        let commands: Vec<Vec<&str>> = vec![
            vec!["catalog", "show", &path],
            vec!["catalog", "lint", &path],
            vec!["catalog", "diff", &path, &path],
            vec!["catalog", "docs", &path],
            vec!["catalog", "schema", &path, "--out", &out_dir],
            vec!["validate", &events, "--catalog", &path],
        ];
        for args in commands {
            let out = telemetry(&args);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains(name) && stderr.contains(expected),
                "{args:?}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        }
    }
}

#[test]
fn validate_names_a_missing_event_file() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = write(dir.path(), "catalog.json", CATALOG);
    let out = telemetry(&["validate", "nope.jsonl", "--catalog", &catalog]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot open the event file `nope.jsonl`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn help_documents_exit_codes() {
    for args in [
        &["--help"][..],
        &["catalog", "lint", "--help"],
        &["catalog", "diff", "--help"],
        &["validate", "--help"],
    ] {
        let out = telemetry(args);
        assert!(out.status.success());
        assert!(text(&out.stdout).contains("Exit codes:"), "{args:?}");
    }
}

#[test]
fn dump_one_liner_is_documented_in_the_readme() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    assert!(readme.contains("telemetry_core::catalog::dump_if_requested()"));
    assert!(readme.contains("TELEMETRY_DUMP_CATALOG"));
}

#[test]
fn pipeline_stats_records_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"format":1,"type":"event","id":"0193a5b2-7c3e-7b4a-9f1e-2d3c4b5a6978","timestamp":"2026-11-25T18:41:11.123Z","name":"cart.item_added","version":1,"properties":{"dish_id":7},"context":{"app_name":"a","app_version":"1","os":"linux","arch":"x86_64"}}"#;
    let stats = r#"{"format":1,"type":"stats","id":"0193a5b2-7c3e-7b4a-9f1e-2d3c4b5a6979","timestamp":"2026-11-25T18:42:11.123Z","name":"telemetry.stats","version":1,"properties":{"emitted":1},"context":{"app_name":"a","app_version":"1","os":"linux","arch":"x86_64"}}"#;
    let events = write(dir.path(), "e.jsonl", &format!("{good}\n{stats}\n"));
    let catalog = write(dir.path(), "catalog.json", CATALOG);
    let out = telemetry(&["events", "count", &events]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && !stdout.contains("telemetry.stats"),
        "{stdout}"
    );
    let out = telemetry(&["validate", &events, "--catalog", &catalog]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        !text(&out.stdout).contains("unknown-event"),
        "{}",
        text(&out.stdout)
    );
}

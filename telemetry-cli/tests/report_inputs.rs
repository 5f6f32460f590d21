//! `telemetry report` inputs: gzip and zstd files, directories of rotated files,
//! several paths at once, standard input, `--tz`, sampled records, and files that
//! cannot be read. The hand-checked fixture of `report.rs` is split over several
//! files; every metric must come out the same as from the single file.

mod common;

use std::io::Write as _;
use std::path::Path;

use common::{fixture, fixture_path, telemetry, text};
use serde_json::Value;

fn fixture_lines() -> Vec<String> {
    std::fs::read_to_string(fixture_path("report-events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| format!("{l}\n"))
        .collect()
}

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

fn zstd(text: &str) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(text.as_bytes(), ruzstd::encoding::CompressionLevel::Fastest)
}

fn json_report(args: &[&str]) -> Value {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json", "--churn-days", "2"]);
    let out = telemetry(&all);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_str(&text(&out.stdout)).unwrap()
}

/// The metrics of a report, without what says where the records came from.
fn metrics(mut report: Value) -> Value {
    let input = report["input"].as_object_mut().unwrap();
    for key in [
        "files",
        "malformed_at",
        "missing_user_at",
        "unknown_events_at",
        "malformed_examples",
    ] {
        input.remove(key);
    }
    report
}

#[test]
fn a_directory_of_rotated_compressed_files_reads_like_one_file() {
    let lines = fixture_lines();
    assert_eq!(lines.len(), 20);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Name order: events.jsonl, events.jsonl.1.gz, events.jsonl.2.zst.
    std::fs::write(d.join("events.jsonl.1.gz"), gzip(&lines[..7].concat())).unwrap();
    std::fs::write(d.join("events.jsonl.2.zst"), zstd(&lines[7..14].concat())).unwrap();
    std::fs::write(d.join("events.jsonl"), lines[14..].concat()).unwrap();
    std::fs::write(d.join("notes.txt"), "not events\n").unwrap();
    std::fs::create_dir(d.join("old")).unwrap();
    std::fs::write(d.join("old/events.jsonl"), lines[0].clone()).unwrap();

    let catalog = fixture("report-catalog.json");
    let whole = json_report(&[&fixture("report-events.jsonl"), "--catalog", &catalog]);
    let split = json_report(&[d.to_str().unwrap(), "--catalog", &catalog]);
    let files: Vec<String> = split["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let f = f.as_str().unwrap();
            Path::new(f)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        files,
        ["events.jsonl", "events.jsonl.1.gz", "events.jsonl.2.zst"]
    );
    // The broken line 12 of the fixture is line 5 of the zstd file.
    let malformed = split["input"]["malformed_at"][0].as_str().unwrap();
    assert!(malformed.contains("events.jsonl.2.zst:5: "), "{malformed}");
    assert_eq!(metrics(whole), metrics(split));
}

#[test]
fn several_paths_and_standard_input() {
    let lines = fixture_lines();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.jsonl.gz");
    let b = dir.path().join("b.log"); // any name: the content decides
    std::fs::write(&a, gzip(&lines[..10].concat())).unwrap();
    std::fs::write(&b, zstd(&lines[10..].concat())).unwrap();
    let whole = json_report(&[&fixture("report-events.jsonl")]);
    let two = json_report(&[a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(two["input"]["files"].as_array().unwrap().len(), 2);
    assert_eq!(metrics(whole.clone()), metrics(two));

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_telemetry"))
        .args(["report", "-", "--format", "json", "--churn-days", "2"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&gzip(&lines.concat()))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let piped: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(piped["input"]["files"][0], "-");
    assert_eq!(metrics(whole), metrics(piped));
}

#[test]
fn a_truncated_file_keeps_its_lines_and_says_so() {
    let lines = fixture_lines();
    let dir = tempfile::tempdir().unwrap();
    let mut big = String::new();
    for _ in 0..200 {
        big.push_str(&lines[..10].concat());
    }
    let mut gz = gzip(&big);
    gz.truncate(gz.len() * 2 / 3);
    let path = dir.path().join("cut.jsonl.gz");
    std::fs::write(&path, gz).unwrap();
    let out = telemetry(&["report", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("read error: ")
            && stdout.contains("cut.jsonl.gz: reading stopped after line"),
        "{stdout}"
    );
    let records: u64 = stdout.split(' ').next().unwrap().parse().unwrap();
    assert!(records > 0 && records < 2000, "{records}");
}

#[test]
fn unreadable_inputs_fail_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let out = telemetry(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("holds no event files"), "{err}");

    let bad = dir.path().join("bad.jsonl.zst");
    std::fs::write(&bad, [0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff]).unwrap();
    let out = telemetry(&["report", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.jsonl.zst") && err.contains("zstd"),
        "{err}"
    );

    // A missing second path fails at once, naming it.
    let out = telemetry(&[
        "report",
        &fixture("report-events.jsonl"),
        "tests/fixtures/nope.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`tests/fixtures/nope.jsonl`"));

    let out = telemetry(&[
        "report",
        &fixture("report-events.jsonl"),
        "--tz",
        "Europe/Parls",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("--tz") && err.contains("`Europe/Parls`"),
        "{err}"
    );
}

/// The fixture's records at 09:00-11:00 UTC fall on the same days in Berlin (UTC+1),
/// and one day earlier at UTC-12 (Etc/GMT+12, whose sign is POSIX-inverted): the
/// first day moves from the 20th to the 19th.
#[test]
fn time_zone_moves_the_days() {
    let utc = json_report(&[&fixture("report-events.jsonl")]);
    let berlin = json_report(&[&fixture("report-events.jsonl"), "--tz", "Europe/Berlin"]);
    let west = json_report(&[&fixture("report-events.jsonl"), "--tz", "Etc/GMT+12"]);
    assert_eq!(utc["input"]["time_zone"], "UTC");
    assert_eq!(berlin["input"]["time_zone"], "Europe/Berlin");
    assert_eq!(utc["input"]["first_day"], "2026-11-20");
    assert_eq!(berlin["input"]["first_day"], "2026-11-20");
    assert_eq!(west["input"]["first_day"], "2026-11-19");
    assert_eq!(
        utc["active_users"]["series"],
        berlin["active_users"]["series"]
    );
    let text_out = text(
        &telemetry(&[
            "report",
            &fixture("report-events.jsonl"),
            "--tz",
            "Europe/Berlin",
        ])
        .stdout,
    );
    assert!(text_out.contains("(Europe/Berlin days)"), "{text_out}");
}

#[test]
fn sampled_records_are_shown_as_estimates() {
    let lines = fixture_lines();
    let sampled: String = lines
        .iter()
        .map(|l| {
            if l.contains("\"user_id\":\"ana\"") {
                l.replacen("}}\n", "},\"sample_rate\":0.1}\n", 1)
            } else {
                l.clone()
            }
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sampled.jsonl");
    std::fs::write(&path, sampled).unwrap();
    let out = telemetry(&["report", path.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("estimated from sampled events: ") && stdout.contains("at rate 0.1 (x10)"),
        "{stdout}"
    );
    let report = json_report(&[path.to_str().unwrap()]);
    let plain = json_report(&[&fixture("report-events.jsonl")]);
    assert!(report["input"]["sampled"]["0.1"].as_u64().unwrap() > 0);
    // ana now stands for 10 users: the first day's DAU grows by 9.
    let dau = |r: &Value| r["active_users"]["series"][0]["dau"].as_u64().unwrap();
    assert_eq!(dau(&report), dau(&plain) + 9);
}

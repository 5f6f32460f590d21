//! `telemetry validate`: golden output, broken lines, a 200 MB line, and one million
//! events in constant memory.

mod common;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::*;

#[test]
fn validate_reports_every_kind_of_violation_with_line_numbers() {
    let (events, plan) = (fixture("events.jsonl"), fixture("plan.json"));
    let out = telemetry(&["validate", &events, "--catalog", &plan]);
    assert_eq!(out.status.code(), Some(1));
    golden("validate.txt", &text(&out.stdout));
    let out = telemetry(&["validate", "--format", "json", &events, "--catalog", &plan]);
    assert_eq!(out.status.code(), Some(1));
    golden("validate.json", &text(&out.stdout));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (kind, n) in report["violations"].as_object().unwrap() {
        assert!(n.as_u64().unwrap() > 0, "the fixture has no `{kind}`");
    }
    // Personal data is never echoed back.
    assert!(!text(&out.stdout).contains("ada@example.com"));
}

#[test]
fn the_example_style_file_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let lines: String = std::fs::read_to_string(fixture_path("events.jsonl"))
        .unwrap()
        .lines()
        .take(2)
        .map(|l| format!("{l}\n"))
        .collect();
    let path = dir.path().join("ok.jsonl");
    std::fs::write(&path, lines).unwrap();
    let out = telemetry(&[
        "validate",
        path.to_str().unwrap(),
        "--catalog",
        &fixture("plan.json"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("2 lines, 2 records, 2 valid, 0 with violations"));
}

#[test]
fn a_200_mb_line_is_skipped_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.jsonl");
    let good = std::fs::read_to_string(fixture_path("events.jsonl"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(f, "{good}").unwrap();
        f.write_all(b"{\"format\":1,\"name\":\"").unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..200 {
            f.write_all(&chunk).unwrap();
        }
        f.write_all(b"\"}\n").unwrap();
        writeln!(f, "{good}").unwrap();
    }
    let out = telemetry(&[
        "validate",
        path.to_str().unwrap(),
        "--catalog",
        &fixture("plan.json"),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "huge.jsonl:2: malformed-line: line of 209715223 bytes is longer than --max-line-bytes"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("3 lines, 2 records, 2 valid"), "{stdout}");
    assert!(!text(&out.stderr).contains("panicked"));
}

/// Peak resident memory of a running process, in kB (Linux).
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn one_million_events_in_constant_memory() {
    const EVENTS: usize = 1_000_000;
    let template: Vec<String> = std::fs::read_to_string(fixture_path("events.jsonl"))
        .unwrap()
        .lines()
        .take(2)
        .map(str::to_string)
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_telemetry"))
        .args([
            "validate",
            "-",
            "--catalog",
            &fixture("plan.json"),
            "--format",
            "json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let start = Instant::now();
    let mut bytes = 0usize;
    let mut batch = String::with_capacity(1 << 20);
    for i in 0..EVENTS {
        batch.push_str(&template[i % 2]);
        batch.push('\n');
        if batch.len() > (1 << 20) - 1024 {
            bytes += batch.len();
            stdin.write_all(batch.as_bytes()).unwrap();
            batch.clear();
        }
    }
    bytes += batch.len();
    stdin.write_all(batch.as_bytes()).unwrap();
    stdin.flush().unwrap();
    // Everything but the pipe buffer has been read: the peak so far is the peak.
    let peak = peak_rss_kb(pid);
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let seconds = start.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}", text(&out.stdout));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid_records"], EVENTS as u64);
    eprintln!(
        "validated {EVENTS} events ({} MB) in {seconds:.2} s: {:.0} events/s, peak RSS {} kB ({})",
        bytes >> 20,
        EVENTS as f64 / seconds,
        peak.map_or("unknown".into(), |p| p.to_string()),
        text(&out.stderr).trim()
    );
    if let Some(peak) = peak {
        assert!(
            peak < 32 * 1024,
            "peak RSS {peak} kB for {} MB of input: not constant memory",
            bytes >> 20
        );
    }
}

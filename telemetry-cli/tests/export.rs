//! `telemetry export` against a loopback server: a file is sent completely, a second
//! run resumes without sending anything twice, failures give exit code 1 and resume
//! from the failed batch, malformed lines are reported with file:line and counted,
//! and credentials are never printed.

mod common;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::text;
use telemetry_test_support::http::{HttpServer, RecordedRequest, Reply};

/// Runs `telemetry export` with `args` and the given environment (the OTLP and vendor
/// variables of the test's own environment are removed).
fn export<S: AsRef<OsStr>>(args: &[S], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_telemetry"));
    command.arg("export").args(args).env("NO_COLOR", "1");
    for var in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
        "AMPLITUDE_API_KEY",
    ] {
        command.env_remove(var);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the telemetry binary runs")
}

/// The id of the `n`th test event.
fn id(n: usize) -> String {
    format!("0193a000-0000-7000-8000-{n:012x}")
}

/// A record line as the pipeline writes it.
fn event_line(n: usize) -> String {
    format!(
        r#"{{"format":1,"type":"event","id":"{}","timestamp":"2026-11-25T18:41:11.123Z","name":"cart.item_added","version":1,"properties":{{"dish_id":{n}}},"context":{{"app_name":"shop","app_version":"1.0","anonymous_id":"anon-{n}","user_id":"user-{n}","session_id":"s-1","os":"linux","arch":"x86_64"}}}}"#,
        id(n)
    )
}

fn write_events(path: &Path, range: std::ops::Range<usize>, extra: &[&str]) {
    let mut text: String = range.map(|n| event_line(n) + "\n").collect();
    for line in extra {
        text.push_str(line);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn append_events(path: &Path, range: std::ops::Range<usize>) {
    let mut text = std::fs::read_to_string(path).unwrap();
    text.extend(range.map(|n| event_line(n) + "\n"));
    std::fs::write(path, text).unwrap();
}

/// Ids the server accepted (2xx answers only), with how often each arrived.
fn accepted(requests: &[RecordedRequest], statuses: &[u16]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for (request, status) in requests.iter().zip(statuses) {
        if (200..300).contains(status) {
            for id in request.otlp_record_uids() {
                *seen.entry(id).or_insert(0) += 1;
            }
        }
    }
    seen
}

fn events_file(dir: &tempfile::TempDir) -> (PathBuf, String) {
    let path = dir.path().join("events.jsonl");
    let display = path.display().to_string();
    (path, display)
}

/// Writes `n` test events to a file in `dir`; returns its path and the arguments that
/// export it to `server` over OTLP in batches of 5, followed by `extra`.
fn otlp_in_batches_of_5(
    dir: &tempfile::TempDir,
    n: usize,
    server: &HttpServer,
    extra: &[&str],
) -> (PathBuf, Vec<String>) {
    let (path, file) = events_file(dir);
    write_events(&path, 0..n, &[]);
    let url = server.url();
    let args = [
        file.as_str(),
        "--to",
        "otlp",
        "--endpoint",
        &url,
        "--batch",
        "5",
    ]
    .iter()
    .chain(extra)
    .map(|arg| arg.to_string())
    .collect();
    (path, args)
}

#[test]
fn a_file_is_sent_completely_and_non_events_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (path, file) = events_file(&dir);
    let stats = r#"{"format":1,"type":"stats","id":"0193a000-0000-7000-9000-000000000001","timestamp":"2026-11-25T18:41:11.123Z","name":"telemetry.stats","version":1,"properties":{"emitted":25},"context":{"app_name":"shop","app_version":"1.0","os":"linux","arch":"x86_64"}}"#;
    let identify = r#"{"format":1,"type":"identify","id":"0193a000-0000-7000-9000-000000000002","timestamp":"2026-11-25T18:41:11.123Z","name":"telemetry.identify","version":1,"properties":{},"context":{"app_name":"shop","app_version":"1.0","anonymous_id":"a","user_id":"u","os":"linux","arch":"x86_64"}}"#;
    write_events(&path, 0..25, &[stats, identify]);
    let server = HttpServer::start(vec![]);
    let out = export(
        &[
            &file,
            "--to",
            "otlp",
            "--endpoint",
            &server.url(),
            "--batch",
            "10",
        ],
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "batches of 10, 10 and 5");
    assert!(requests.iter().all(|r| r.path == "/v1/logs"));
    let seen = accepted(&requests, &[200; 3]);
    assert_eq!(seen.len(), 25);
    assert!((0..25).all(|n| seen.get(&id(n)) == Some(&1)));
    assert!(
        stdout.contains(
            "27 lines: 25 events, 0 malformed lines, 1 stats records and 1 identify records skipped"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("sent 25, rejected 0"), "{stdout}");
    assert!(dir.path().join("events.jsonl.export-state").exists());
    // Not a terminal: no progress bar, nothing else to say.
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn every_vendor_target_sends_through_its_exporter_with_its_own_progress() {
    let dir = tempfile::tempdir().unwrap();
    let (path, file) = events_file(&dir);
    write_events(&path, 0..3, &[]);
    let key = "secret-key-0123456789";
    for (target, path) in [
        ("amplitude", "/2/httpapi"),
        ("mixpanel", "/import"),
        ("segment", "/v1/batch"),
        ("posthog", "/batch/"),
        ("ga4", "/mp/collect"),
    ] {
        let server = HttpServer::start(vec![]);
        let env = [
            ("AMPLITUDE_API_KEY", key),
            ("MIXPANEL_TOKEN", key),
            ("SEGMENT_WRITE_KEY", key),
            ("POSTHOG_API_KEY", key),
            ("GA4_API_SECRET", key),
            ("GA4_MEASUREMENT_ID", "G-TEST123"),
        ];
        let out = export(&[&file, "--to", target, "--endpoint", &server.url()], &env);
        let all = text(&out.stdout) + &text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{target}: {all}");
        assert!(all.contains("sent 3, rejected 0"), "{target}: {all}");
        assert!(!all.contains(key), "{target}: {all}");
        let requests = server.requests();
        assert!(!requests.is_empty(), "{target}");
        assert!(
            requests.iter().all(|r| r.path == path),
            "{target}: {requests:?}"
        );
    }
    // One saved progress per destination.
    let state = std::fs::read_to_string(dir.path().join("events.jsonl.export-state")).unwrap();
    for target in ["amplitude", "mixpanel", "segment", "posthog", "ga4"] {
        assert!(
            state.contains(&format!("\"{target} http://127.0.0.1:")),
            "{state}"
        );
    }
}

#[test]
fn a_second_run_resumes_and_sends_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start(vec![]);
    let (path, args) = otlp_in_batches_of_5(&dir, 12, &server, &[]);
    assert_eq!(export(&args, &[]).status.code(), Some(0));
    assert_eq!(server.requests().len(), 3);

    // Nothing new: nothing sent.
    let out = export(&args, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("resuming after line 12"));
    assert_eq!(server.requests().len(), 3);

    // New events appended: only they are sent.
    append_events(&path, 12..20);
    let out = export(&args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let requests = server.requests();
    let seen = accepted(&requests, &vec![200; requests.len()]);
    assert_eq!(seen.len(), 20);
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");

    // --restart ignores the saved progress.
    let out = export(&[&args[..], &["--restart".to_owned()]].concat(), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        accepted(&server.requests(), &[200; 20]).get(&id(0)),
        Some(&2)
    );
}

#[test]
fn a_failed_batch_gives_exit_code_1_and_the_next_run_resumes_from_it() {
    let dir = tempfile::tempdir().unwrap();
    // The second batch meets a 503 and no retry is allowed: it may succeed later.
    let server = HttpServer::start(vec![Reply::status(200), Reply::status(503)]);
    let (_, args) = otlp_in_batches_of_5(&dir, 15, &server, &["--max-retries", "0"]);
    let out = export(&args, &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("sent 5, rejected 0 (invalid for the destination), failed 5"),
        "{stdout}"
    );
    assert!(stdout.contains("HTTP 503"), "{stdout}");
    assert!(
        stdout.contains("progress is saved up to line 5"),
        "{stdout}"
    );
    assert_eq!(server.requests().len(), 2, "stops at the failed batch");

    let out = export(&args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let requests = server.requests();
    let statuses: Vec<u16> = (0..requests.len())
        .map(|i| if i == 1 { 503 } else { 200 })
        .collect();
    let seen = accepted(&requests, &statuses);
    assert_eq!(seen.len(), 15);
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
}

#[test]
fn a_batch_refused_for_its_content_is_counted_and_passed_over() {
    let dir = tempfile::tempdir().unwrap();
    // A 400 can never succeed as sent: not retried, not resent on the next run.
    let server = HttpServer::start(vec![Reply::status(200), Reply::status(400)]);
    let (_, args) = otlp_in_batches_of_5(&dir, 15, &server, &[]);
    let out = export(&args, &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("sent 10, rejected 0 (invalid for the destination), failed 5"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("  5 not delivered: ") && l.contains("HTTP 400")),
        "{stdout}"
    );
    assert_eq!(server.requests().len(), 3);
    let out = export(&args, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.requests().len(), 3, "nothing left to send");
}

#[test]
fn an_unreachable_endpoint_fails_with_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    let (path, file) = events_file(&dir);
    write_events(&path, 0..3, &[]);
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let out = export(
        &[
            &file,
            "--to",
            "otlp",
            "--endpoint",
            &closed,
            "--max-retries",
            "0",
        ],
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("failed 3"), "{stdout}");
    assert!(stdout.contains(&closed), "{stdout}");
}

#[test]
fn malformed_lines_are_reported_with_file_and_line_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (path, file) = events_file(&dir);
    let mut lines: Vec<String> = (0..4).map(event_line).collect();
    lines.insert(2, "{not json".into());
    lines.insert(4, r#"{"format":1,"type":"event"}"#.into());
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let server = HttpServer::start(vec![]);
    let out = export(&[&file, "--to", "otlp", "--endpoint", &server.url()], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains(&format!("{file}:3: malformed line skipped")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:5: malformed line skipped")),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("4 events, 2 malformed lines"));
    let requests = server.requests();
    assert_eq!(accepted(&requests, &[200]).len(), 4);
}

#[test]
fn a_json_vendor_gets_the_events_and_the_key_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let (path, file) = events_file(&dir);
    write_events(&path, 0..3, &[]);
    let server = HttpServer::start(vec![Reply::json(401, r#"{"error":"invalid api key"}"#)]);
    let key = "amp-key-0123456789";
    let out = export(
        &[
            &file,
            "--to",
            "amplitude",
            "--endpoint",
            &server.url(),
            "--key-env",
            "TEST_AMP_KEY",
        ],
        &[("TEST_AMP_KEY", key)],
    );
    let all = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(!all.contains(key), "{all}");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/2/httpapi");
    let body = requests[0].text();
    assert!((0..3).all(|n| body.contains(&id(n))), "{body}");
    assert!(body.contains(key), "the key goes to the vendor, only there");
}

#[test]
fn a_missing_key_variable_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (path, file) = events_file(&dir);
    write_events(&path, 0..1, &[]);
    let out = export(
        &[
            &file,
            "--to",
            "amplitude",
            "--key-env",
            "TELEMETRY_TEST_UNSET_KEY",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("TELEMETRY_TEST_UNSET_KEY"), "{stderr}");
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let out = export(&["no/such/events.jsonl", "--to", "otlp"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such/events.jsonl"));
}

#[test]
fn postgres_gets_every_event_once_even_with_restart() {
    let Some(pg) = telemetry_test_support::pg::start_or_skip(
        "postgres_gets_every_event_once_even_with_restart",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (path, file) = events_file(&dir);
    write_events(&path, 0..12, &[]);
    let url = pg.url();
    let args = [file.as_str(), "--to", "postgres", "--batch", "5"];
    let env = [("TELEMETRY_POSTGRES_URL", url.as_str())];
    let out = export(&args, &env);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("sent 12"));
    let count = || pg.psql("SELECT count(*), count(DISTINCT id) FROM telemetry_events");
    assert_eq!(count(), "12|12");
    // Sending everything again inserts nothing twice (the id is the primary key).
    let out = export(&[&args[..], &["--restart"]].concat(), &env);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(count(), "12|12");
    assert_eq!(
        pg.psql(&format!(
            "SELECT name, user_id FROM telemetry_events WHERE id = '{}'",
            id(3)
        )),
        "cart.item_added|user-3"
    );
}

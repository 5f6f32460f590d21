//! The OTLP/HTTP logs exporter against a loopback server: the request is decoded with
//! the official Python `opentelemetry-proto` classes (an independent protobuf
//! implementation, in `target/test-venv`, made by `scripts/setup-test-deps.sh`), and
//! the answers are handled as the OTLP specification says (retry only 429, 502, 503,
//! 504; partial success not retried).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value as Json;
use telemetry_core::export::Otlp;
use telemetry_core::{Record, Sink};
use telemetry_test_support::http::{HttpServer, RecordedRequest, Reply};

/// The venv's Python, or `None` (with a message) when it was not set up; under `CI` a
/// missing decoder fails the test instead.
fn python() -> Option<PathBuf> {
    // Not canonicalized: the venv's `python` is a symlink to the system one, and only
    // the path inside the venv selects the venv.
    let python =
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-venv/bin/python"));
    let usable = python.as_ref().is_some_and(|p| {
        Command::new(p)
            .args([
                "-c",
                "import opentelemetry.proto.collector.logs.v1.logs_service_pb2",
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if usable {
        return python;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "target/test-venv with opentelemetry-proto is missing: run scripts/setup-test-deps.sh"
    );
    eprintln!(
        "SKIPPED: no target/test-venv with opentelemetry-proto (run scripts/setup-test-deps.sh)"
    );
    None
}

/// Decodes an `ExportLogsServiceRequest` with the official classes, as JSON
/// (`MessageToDict`, proto field names).
fn decode(python: &PathBuf, body: &[u8]) -> Json {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("body.bin");
    std::fs::write(&path, body).unwrap();
    let script = "import sys, json\n\
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest\n\
        from google.protobuf.json_format import MessageToDict\n\
        m = ExportLogsServiceRequest()\n\
        m.ParseFromString(open(sys.argv[1], 'rb').read())\n\
        print(json.dumps(MessageToDict(m, preserving_proto_field_name=True)))\n";
    let out = Command::new(python)
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the official decoder refused the body: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A record as the pipeline writes it.
fn record(name: &str, app: &str, millis: u64, extra: &str) -> Record {
    let id = uuid::Uuid::now_v7();
    let timestamp =
        humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + Duration::from_millis(millis));
    Record::from_json(&format!(
        r#"{{"format":1,"type":"event","id":"{id}","timestamp":"{timestamp}","name":"{name}","version":2,
        "properties":{{"dish_id":7,"delta":-3,"price":12.5,"vegan":true,"source":"menu","huge":18446744073709551615}},
        "context":{{"app_name":"{app}","app_version":"1.4.0","anonymous_id":"anon-1","user_id":"user-1",
        "session_id":"sess-1","os":"linux","arch":"x86_64","locale":"en-GB"}}{extra}}}"#
    ))
    .unwrap()
}

fn records(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| record("cart.item_added", "shop", 1_700_000_000_000 + i as u64, ""))
        .collect()
}

/// An exporter with short retry waits, for tests that do not test the waits.
fn exporter(server: &HttpServer) -> Otlp {
    Otlp::new(server.url())
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .max_retries(3)
}

/// The record ids a request holds (each appears as its UUID text in `log.record.uid`).
fn ids_in(request: &RecordedRequest, records: &[Record]) -> Vec<uuid::Uuid> {
    let body = String::from_utf8_lossy(&request.body);
    records
        .iter()
        .map(|r| r.id)
        .filter(|id| body.contains(&id.to_string()))
        .collect()
}

/// An `ExportLogsServiceResponse` with a partial success, hand-encoded.
fn partial_success(rejected: u8, message: &str) -> Vec<u8> {
    let mut partial = vec![0x08, rejected, 0x12, message.len() as u8];
    partial.extend_from_slice(message.as_bytes());
    let mut body = vec![0x0a, partial.len() as u8];
    body.extend_from_slice(&partial);
    body
}

fn attributes(list: &Json) -> serde_json::Map<String, Json> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|kv| (kv["key"].as_str().unwrap().to_owned(), kv["value"].clone()))
        .collect()
}

#[test]
fn request_is_valid_otlp_with_names_attributes_resource_and_timestamps() {
    let server = HttpServer::start(vec![]);
    let call = r#","call":{"function":"shop::pay","duration_ms":12.5,"outcome":"error","error_kind":"CardDeclined"},"sample_rate":0.25"#;
    let batch = vec![
        record("cart.item_added", "shop", 1_700_000_000_123, ""),
        record("payment.attempted", "courier", 1_700_000_000_456, call),
        record("cart.item_removed", "shop", 1_700_000_000_789, ""),
    ];
    let mut otlp = exporter(&server).header("X-Api-Key", "key-never-printed");
    let delivery = otlp.send(&batch);
    assert_eq!(
        (delivery.exported, delivery.rejected, delivery.failed),
        (3, 0, 0)
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v1/logs")
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-protobuf")
    );
    assert_eq!(request.header("x-api-key"), Some("key-never-printed"));
    assert!(!format!("{otlp:?}").contains("key-never-printed"));

    let Some(python) = python() else { return };
    let decoded = decode(&python, &request.body);
    let resource_logs = decoded["resource_logs"].as_array().unwrap();
    // One ResourceLogs per application, in order of first appearance.
    assert_eq!(resource_logs.len(), 2, "{decoded:#}");
    let resource = attributes(&resource_logs[0]["resource"]["attributes"]);
    assert_eq!(resource["service.name"]["string_value"], "shop");
    assert_eq!(resource["service.version"]["string_value"], "1.4.0");
    assert_eq!(resource["os.type"]["string_value"], "linux");
    assert_eq!(resource["host.arch"]["string_value"], "amd64");
    let courier = attributes(&resource_logs[1]["resource"]["attributes"]);
    assert_eq!(courier["service.name"]["string_value"], "courier");

    let scope = &resource_logs[0]["scope_logs"][0];
    assert_eq!(scope["scope"]["name"], "telemetry-core");
    let logs = scope["log_records"].as_array().unwrap();
    assert_eq!(logs.len(), 2);
    let names: Vec<_> = logs.iter().map(|l| l["event_name"].clone()).collect();
    assert_eq!(names, ["cart.item_added", "cart.item_removed"]);

    let first = &logs[0];
    // fixed64 fields come out of MessageToDict as decimal strings.
    assert_eq!(first["time_unix_nano"], "1700000000123000000");
    assert_eq!(first["observed_time_unix_nano"], "1700000000123000000");
    assert_eq!(first["severity_number"], "SEVERITY_NUMBER_INFO");
    assert_eq!(first["severity_text"], "INFO");
    assert_eq!(first["body"]["string_value"], "cart.item_added");
    let attrs = attributes(&first["attributes"]);
    assert_eq!(attrs["dish_id"]["int_value"], "7");
    assert_eq!(attrs["delta"]["int_value"], "-3");
    assert_eq!(attrs["price"]["double_value"], 12.5);
    assert_eq!(attrs["vegan"]["bool_value"], true);
    assert_eq!(attrs["source"]["string_value"], "menu");
    assert_eq!(attrs["huge"]["double_value"], 18446744073709551615.0);
    assert_eq!(attrs["event.name"]["string_value"], "cart.item_added");
    assert_eq!(attrs["event.version"]["int_value"], "2");
    assert_eq!(
        attrs["log.record.uid"]["string_value"],
        batch[0].id.to_string()
    );
    assert_eq!(attrs["user.id"]["string_value"], "user-1");
    assert_eq!(attrs["user.anonymous_id"]["string_value"], "anon-1");
    assert_eq!(attrs["session.id"]["string_value"], "sess-1");
    assert_eq!(attrs["user.locale"]["string_value"], "en-GB");
    assert!(!attrs.contains_key("code.function.name"));
    assert!(!attrs.contains_key("event.sample_rate"));

    let paid = &resource_logs[1]["scope_logs"][0]["log_records"][0];
    assert_eq!(paid["event_name"], "payment.attempted");
    let attrs = attributes(&paid["attributes"]);
    assert_eq!(attrs["code.function.name"]["string_value"], "shop::pay");
    assert_eq!(attrs["call.duration_ms"]["double_value"], 12.5);
    assert_eq!(attrs["call.outcome"]["string_value"], "error");
    assert_eq!(attrs["error.type"]["string_value"], "CardDeclined");
    assert_eq!(attrs["event.sample_rate"]["double_value"], 0.25);
}

#[test]
fn stats_and_identify_records_are_not_sent_as_events() {
    let server = HttpServer::start(vec![]);
    let mut batch = records(2);
    let mut stats = batch[0]
        .to_json()
        .replace(r#""type":"event""#, r#""type":"stats""#);
    stats = stats.replace(&batch[0].id.to_string(), &uuid::Uuid::now_v7().to_string());
    let stats = Record::from_json(&stats).unwrap();
    let identify = batch[0]
        .to_json()
        .replace(r#""type":"event""#, r#""type":"identify""#)
        .replace(&batch[0].id.to_string(), &uuid::Uuid::now_v7().to_string());
    let identify = Record::from_json(&identify).unwrap();
    batch.push(stats.clone());
    batch.push(identify.clone());
    let delivery = exporter(&server).send(&batch);
    assert_eq!(delivery.failed + delivery.rejected, 0);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(ids_in(&requests[0], &batch), [batch[0].id, batch[1].id]);
}

#[test]
fn batches_hold_at_most_the_batch_size() {
    let server = HttpServer::start(vec![]);
    let batch = records(5);
    let delivery = exporter(&server).batch_size(2).send(&batch);
    assert_eq!(delivery.exported, 5);
    let requests = server.requests();
    let sizes: Vec<_> = requests.iter().map(|r| ids_in(r, &batch).len()).collect();
    assert_eq!(sizes, [2, 2, 1]);
    let all: Vec<_> = requests.iter().flat_map(|r| ids_in(r, &batch)).collect();
    assert_eq!(all, batch.iter().map(|r| r.id).collect::<Vec<_>>());
}

#[test]
fn a_503_is_retried_with_the_same_request_then_succeeds() {
    let server = HttpServer::start(vec![Reply::status(503), Reply::status(200)]);
    let batch = records(3);
    let delivery = exporter(&server).send(&batch);
    assert_eq!(
        (delivery.exported, delivery.failed, delivery.retried),
        (3, 0, 1)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body, "same ids on the retry");
}

#[test]
fn every_retryable_status_is_retried() {
    for status in [429, 502, 504] {
        let server = HttpServer::start(vec![Reply::status(status)]);
        let delivery = exporter(&server).send(&records(1));
        assert_eq!((delivery.exported, delivery.retried), (1, 1), "{status}");
        assert_eq!(server.requests().len(), 2, "{status}");
    }
}

#[test]
fn other_statuses_are_permanent_and_never_resent() {
    for status in [400, 401, 404, 413, 500, 501] {
        let message = b"\x08\x03\x12\x0dbad log batch";
        let server = HttpServer::start(vec![
            Reply::status(status)
                .header("content-type", "application/x-protobuf")
                .body(&message[..]),
        ]);
        let batch = records(4);
        let delivery = exporter(&server).send(&batch);
        assert_eq!(
            (delivery.exported, delivery.failed, delivery.retried),
            (0, 4, 0),
            "{status}"
        );
        assert_eq!(server.requests().len(), 1, "{status} must not be resent");
        let error = delivery.error.unwrap().to_string();
        assert!(
            error.contains(&format!("HTTP {status}")) && error.contains("bad log batch"),
            "{status}: {error}"
        );
    }
}

#[test]
fn partial_success_counts_rejected_records_and_is_not_retried() {
    let server = HttpServer::start(vec![
        Reply::status(200)
            .header("content-type", "application/x-protobuf")
            .body(partial_success(2, "2 records too old")),
    ]);
    let delivery = exporter(&server).send(&records(5));
    assert_eq!(
        (delivery.exported, delivery.rejected, delivery.failed),
        (3, 2, 0)
    );
    assert!(
        delivery
            .error
            .unwrap()
            .to_string()
            .contains("2 records too old")
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn retry_after_is_honoured() {
    let server = HttpServer::start(vec![
        Reply::status(429).header("retry-after", "2"),
        Reply::status(200),
    ]);
    let delivery = exporter(&server).send(&records(1));
    assert_eq!(delivery.exported, 1);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let waited = requests[1].received_at - requests[0].received_at;
    assert!(
        waited >= Duration::from_millis(1900),
        "waited only {waited:?}"
    );
}

#[test]
fn unreachable_collector_fails_with_an_error_naming_it() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut otlp = Otlp::new(&endpoint)
        .max_retries(1)
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
        .header("authorization", "Bearer hidden-token");
    let delivery = otlp.send(&records(2));
    assert_eq!((delivery.exported, delivery.failed), (0, 2));
    let error = delivery.error.unwrap().to_string();
    assert!(error.contains(&endpoint), "{error}");
    assert!(!error.contains("hidden-token"), "{error}");
}

#[test]
fn a_full_logs_url_is_used_as_is_until_a_base_url_replaces_it() {
    let server = HttpServer::start(vec![]);
    let logs = format!("{}/custom/otlp-logs", server.url());
    assert_eq!(
        exporter(&server).logs_url(&logs).send(&records(1)).exported,
        1
    );
    let base = exporter(&server)
        .logs_url(&logs)
        .endpoint(format!("{}/base", server.url()));
    assert_eq!(base.max_retries(0).send(&records(1)).exported, 1);
    let paths: Vec<_> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/custom/otlp-logs", "/base/v1/logs"]);
}

/// Runs the ignored test `env_child_sends_one_record` in a child process (this test
/// binary) with exactly the given OpenTelemetry variables, so this process's
/// environment is left alone.
fn env_child(vars: &[(&str, String)]) -> std::process::Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "env_child_sends_one_record",
            "--ignored",
            "--nocapture",
        ])
        .env("OTLP_TEST_CHILD", "1");
    for (name, _) in std::env::vars() {
        if name.starts_with("OTEL_") {
            command.env_remove(name);
        }
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn environment_variables_configure_endpoint_and_headers() {
    let server = HttpServer::start(vec![]);
    let out = env_child(&[
        (
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            format!("{}/custom/logs", server.url()),
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "api-key=a%3Db,x-team=core".into(),
        ),
        ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "x-team=logs".into()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/custom/logs");
    assert_eq!(requests[0].header("api-key"), Some("a=b"));
    assert_eq!(requests[0].header("x-team"), Some("logs"));

    let out = env_child(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", server.url()),
        ("OTEL_EXPORTER_OTLP_HEADERS", "broken-entry".into()),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("OTEL_EXPORTER_OTLP_HEADERS: entry 1 has no `=`"),
        "{text}"
    );

    let out = env_child(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", server.url()),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd".into()),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("OTEL_EXPORTER_OTLP_COMPRESSION `zstd` is not supported"),
        "{text}"
    );
    assert_eq!(
        server.requests().len(),
        1,
        "nothing sent with a bad setting"
    );

    #[cfg(feature = "otlp-gzip")]
    {
        let out = env_child(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", server.url()),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip".into()),
        ]);
        assert!(out.status.success());
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].path, "/v1/logs");
        assert_eq!(requests[1].header("content-encoding"), Some("gzip"));
    }
}

/// Run by `environment_variables_configure_endpoint_and_headers` in a child process.
#[test]
#[ignore = "run by another test in a child process, with its environment"]
fn env_child_sends_one_record() {
    if std::env::var_os("OTLP_TEST_CHILD").is_none() {
        return; // Only meaningful in the child process (`--include-ignored` runs it too).
    }
    match Otlp::from_env() {
        Ok(otlp) => {
            let delivery = otlp.max_retries(0).send(&records(1));
            assert_eq!(delivery.exported, 1);
        }
        Err(e) => println!("{e}"),
    }
}

#[cfg(feature = "otlp-gzip")]
#[test]
fn gzip_bodies_decompress_to_the_plain_request() {
    use std::io::Read as _;
    let batch = records(20);
    let plain_server = HttpServer::start(vec![]);
    let gzip_server = HttpServer::start(vec![]);
    assert_eq!(exporter(&plain_server).send(&batch).exported, 20);
    assert_eq!(exporter(&gzip_server).gzip(true).send(&batch).exported, 20);
    let plain = &plain_server.requests()[0];
    let compressed = &gzip_server.requests()[0];
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(compressed.header("content-encoding"), Some("gzip"));
    assert!(compressed.body.len() < plain.body.len() / 2);
    let mut body = Vec::new();
    flate2::read::GzDecoder::new(&compressed.body[..])
        .read_to_end(&mut body)
        .unwrap();
    assert_eq!(body, plain.body);
}

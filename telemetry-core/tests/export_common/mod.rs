//! Helpers shared by the vendor exporters' contract tests: records to send, a fast
//! retry policy, the cases every HTTP exporter must pass and a pipeline run.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::{Value, json};
use telemetry_core::export::{HttpExporter, Vendor};
use telemetry_core::{Config, Delivery, Record, Sink, Stats, TelemetryEvent, emit};
use telemetry_test_support::http::{HttpServer, RecordedRequest, Reply};

/// An event record for `user` (none: anonymous) with the given properties.
pub(crate) fn event(name: &str, user: Option<&str>, properties: Value) -> Record {
    let session = uuid::Uuid::now_v7().to_string();
    let mut context = json!({
        "app_name": "shop",
        "app_version": "1.2.0",
        "anonymous_id": "anon-4f1c2d",
        "session_id": session,
        "os": "linux",
        "arch": "x86_64",
        "locale": "en-GB",
    });
    if let Some(user) = user {
        context["user_id"] = user.into();
    }
    let line = json!({
        "format": 1,
        "type": "event",
        "id": uuid::Uuid::now_v7().to_string(),
        "timestamp": "2026-11-25T18:41:11.123Z",
        "name": name,
        "version": 1,
        "properties": properties,
        "context": context,
    });
    Record::from_json(&line.to_string()).expect("a valid record")
}

/// `n` events `cart.item_added` numbered by their `dish_id` property.
pub(crate) fn events(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| {
            event(
                "cart.item_added",
                Some("user-20391"),
                json!({"dish_id": i, "price_cents": 1250, "source": "menu"}),
            )
        })
        .collect()
}

/// A `note.saved` event whose `text` property holds `text_bytes` bytes.
pub(crate) fn note(text_bytes: usize) -> Record {
    event(
        "note.saved",
        Some("user-20391"),
        json!({"text": "x".repeat(text_bytes)}),
    )
}

/// `n` `note.saved` events numbered by their `i` property, each with a `text` of
/// `text_bytes` bytes.
pub(crate) fn notes(n: usize, text_bytes: usize) -> Vec<Record> {
    let text = "x".repeat(text_bytes);
    (0..n)
        .map(|i| {
            event(
                "note.saved",
                Some("user-20391"),
                json!({"i": i, "text": text}),
            )
        })
        .collect()
}

/// The string at `id` (a JSON pointer) of each element of the array at `array` in the
/// request's JSON body: the event ids a vendor request carries.
pub(crate) fn ids_at(request: &RecordedRequest, array: &str, id: &str) -> Vec<String> {
    json_body(request)
        .pointer(array)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no array at `{array}`"))
        .iter()
        .map(|e| {
            e.pointer(id)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("no string at `{id}`: {e}"))
                .to_owned()
        })
        .collect()
}

/// Small waits so retry tests finish quickly; `max_retries` retries.
pub(crate) fn fast<V: Vendor>(exporter: HttpExporter<V>, max_retries: u32) -> HttpExporter<V> {
    exporter
        .max_retries(max_retries)
        .backoff(Duration::from_millis(1), Duration::from_millis(10))
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
}

/// The request body as JSON.
pub(crate) fn json_body(request: &RecordedRequest) -> Value {
    serde_json::from_slice(&request.body)
        .unwrap_or_else(|e| panic!("the request body is not JSON ({e}): {}", request.text()))
}

/// The ids of `records`, as strings.
pub(crate) fn ids(records: &[Record]) -> Vec<String> {
    records.iter().map(|r| r.id.to_string()).collect()
}

/// Checks that `outcome` exported all `n` records in the one request `server` got, a
/// `POST` to `path` with the given content type, and returns that request.
pub(crate) fn the_only_request(
    server: &HttpServer,
    outcome: &Delivery,
    n: u64,
    path: &str,
    content_type: &str,
) -> RecordedRequest {
    assert_eq!(
        (outcome.exported, outcome.rejected, outcome.failed),
        (n, 0, 0)
    );
    let mut requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = requests.remove(0);
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", path)
    );
    assert_eq!(request.header("content-type"), Some(content_type));
    request
}

/// Builds the exporter under test, sending to `server`, with `max_retries` retries.
pub(crate) type Make<V> = dyn Fn(&HttpServer, u32) -> HttpExporter<V>;
/// Reads the event ids a request carries, in order.
pub(crate) type IdsOf = fn(&RecordedRequest) -> Vec<String>;

/// Two 503 answers, then success: three requests with the same ids, all exported.
pub(crate) fn retries_on_503_then_succeeds<V: Vendor>(make: &Make<V>, ids_of: IdsOf) {
    let server = HttpServer::start(vec![Reply::status(503), Reply::status(503)]);
    let records = events(3);
    let outcome = make(&server, 5).send(&records);
    assert_eq!(
        (outcome.exported, outcome.failed, outcome.retried),
        (3, 0, 2)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(ids_of(request), ids(&records), "same ids on every attempt");
    }
}

/// Each of `replies` is answered once, never retried, and fails the batch; neither
/// `Debug` nor the error shows `secret`. Returns each status with the number of events
/// counted as refused for good.
pub(crate) fn no_retry_on<V: Vendor>(
    make: &Make<V>,
    replies: Vec<Reply>,
    secret: &str,
) -> Vec<(u16, u64)> {
    let mut permanent = Vec::new();
    for reply in replies {
        let status = reply.status;
        let server = HttpServer::start(vec![reply]);
        let mut exporter = make(&server, 5);
        let debug = format!("{exporter:?}");
        assert!(
            !debug.contains(secret),
            "Debug shows the credential: {debug}"
        );
        let outcome = exporter.send(&events(2));
        assert_eq!(server.requests().len(), 1, "status {status}");
        assert_eq!(
            (outcome.exported, outcome.failed, outcome.retried),
            (0, 2, 0),
            "status {status}"
        );
        let error = outcome.error.expect("an error").to_string();
        assert!(error.contains(&status.to_string()), "{error}");
        assert!(!error.contains(secret), "the credential leaked: {error}");
        permanent.push((status, outcome.permanent));
    }
    permanent
}

/// A 429 with `Retry-After: 3` delays the retry by at least about 3 s.
pub(crate) fn waits_for_retry_after<V: Vendor>(make: &Make<V>) {
    let server = HttpServer::start(vec![Reply::status(429).header("Retry-After", "3")]);
    let outcome = make(&server, 3).send(&events(1));
    assert_eq!((outcome.exported, outcome.retried), (1, 1));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let waited = requests[1].received_at - requests[0].received_at;
    assert!(waited >= Duration::from_millis(2900), "waited {waited:?}");
}

/// Always 503: exactly `1 + max_retries` requests, then the batch fails.
pub(crate) fn max_retries_is_exact<V: Vendor>(make: &Make<V>) {
    let server = HttpServer::with_default(vec![], Reply::status(503));
    let outcome = make(&server, 3).send(&events(2));
    assert_eq!(server.requests().len(), 4);
    assert_eq!(
        (outcome.exported, outcome.failed, outcome.retried),
        (0, 2, 3)
    );
    assert_eq!(outcome.permanent, 0, "retries exhausted may succeed later");
}

/// A server that accepts and never answers: cut off by the timeout, retried once,
/// failed.
pub(crate) fn silent_server_is_cut_off<V: Vendor>(make: &Make<V>) {
    let server = HttpServer::with_default(vec![], Reply::never());
    let mut exporter = make(&server, 1).timeout(Duration::from_millis(300));
    let outcome = exporter.send(&events(2));
    assert_eq!((outcome.exported, outcome.failed), (0, 2));
    assert_eq!(server.requests().len(), 2, "one request and one retry");
    let error = outcome.error.expect("an error").to_string();
    assert!(error.contains("timeout"), "{error}");
}

/// The server takes at most 2 events per request and answers 413 above: the batch is
/// split until it fits, each event accepted once, in order.
pub(crate) fn splits_on_413<V: Vendor>(make: &Make<V>, ids_of: IdsOf) {
    let server = HttpServer::with_handler(move |request, _| {
        if ids_of(request).len() > 2 {
            Reply::status(413)
        } else {
            Reply::json(200, "{}")
        }
    });
    let records = events(5);
    let outcome = make(&server, 0).send(&records);
    assert_eq!(
        (outcome.exported, outcome.failed, outcome.retried),
        (5, 0, 0)
    );
    let accepted: Vec<String> = server
        .requests()
        .iter()
        .map(ids_of)
        .filter(|ids| ids.len() <= 2)
        .flatten()
        .collect();
    assert_eq!(accepted, ids(&records));
}

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added", owner = "growth")]
pub(crate) struct ItemAdded {
    /// The dish.
    pub(crate) dish_id: u64,
}

/// Runs the pipeline with `config`: emits `ItemAdded` events numbered from 0, as many
/// as each of `rounds` says, flushing between rounds, then shuts down. Checks that every
/// event was emitted and counted once (exported, dropped or failed) and returns the
/// final counters.
pub(crate) fn run_pipeline(config: Config, rounds: &[u64]) -> Stats {
    let _lock = pipeline_lock();
    let guard = telemetry_core::init(config);
    assert!(guard.is_active());
    let mut dish_id = 0;
    for (i, &round) in rounds.iter().enumerate() {
        if i > 0 {
            assert!(telemetry_core::flush(Duration::from_secs(30)));
        }
        for _ in 0..round {
            emit!(ItemAdded { dish_id });
            dish_id += 1;
        }
    }
    assert!(guard.shutdown(Duration::from_secs(30)));
    let stats = telemetry_core::stats();
    assert_eq!(stats.emitted, dish_id, "{stats:?}");
    assert_eq!(
        stats.exported + stats.dropped() + stats.failed,
        stats.emitted,
        "{stats:?}"
    );
    stats
}

/// The pipeline is process-global: tests that call `init` take this lock.
pub(crate) fn pipeline_lock() -> std::sync::MutexGuard<'static, ()> {
    static PIPELINE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    PIPELINE.lock().unwrap_or_else(|e| e.into_inner())
}

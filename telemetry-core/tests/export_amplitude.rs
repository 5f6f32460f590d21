//! Contract tests of the Amplitude exporter (HTTP V2 API) against a scripted loopback
//! server.

mod export_common;

use std::collections::HashSet;
use std::time::Duration;

use export_common::*;
use serde_json::{Value, json};
use telemetry_core::export::{
    AMPLITUDE_MAX_EVENTS, AMPLITUDE_MAX_REQUEST_BYTES, Amplitude, AmplitudeApi,
};
use telemetry_core::{Config, Sink};
use telemetry_test_support::http::{HttpServer, RecordedRequest, Reply};

const KEY: &str = "amp-key-0123456789";

fn exporter(server: &HttpServer, max_retries: u32) -> Amplitude {
    fast(Amplitude::new(KEY).endpoint(server.url()), max_retries)
}

const MAKE: &Make<AmplitudeApi> = &exporter;

fn insert_ids(request: &RecordedRequest) -> Vec<String> {
    ids_at(request, "/events", "/insert_id")
}

#[test]
fn the_request_is_as_documented_and_success_exports_everything() {
    let server = HttpServer::start(vec![Reply::json(
        200,
        r#"{"code":200,"events_ingested":2}"#,
    )]);
    let mut records = events(1);
    records.push(event(
        "checkout.started",
        None,
        json!({"items": 3, "coupon": "AUTUMN"}),
    ));
    let outcome = exporter(&server, 0).send(&records);
    let request = &the_only_request(&server, &outcome, 2, "/2/httpapi", "application/json");
    let body = json_body(request);
    assert_eq!(body["api_key"], KEY);
    assert!(body.get("options").is_none(), "ids are long enough: {body}");
    let sent = body["events"].as_array().unwrap();
    assert_eq!(sent.len(), 2);
    let first = &sent[0];
    assert_eq!(first["event_type"], "cart.item_added");
    assert_eq!(first["user_id"], "user-20391");
    assert_eq!(first["device_id"], "anon-4f1c2d");
    assert_eq!(first["time"], 1_795_632_071_123u64);
    assert_eq!(first["insert_id"], records[0].id.to_string());
    assert_eq!(first["app_version"], "1.2.0");
    assert_eq!(first["os_name"], "linux");
    assert_eq!(first["language"], "en-GB");
    let session = records[0].context.session_id.as_deref().unwrap();
    let start = uuid::Uuid::parse_str(session)
        .unwrap()
        .get_timestamp()
        .unwrap()
        .to_unix();
    assert_eq!(
        first["session_id"],
        start.0 * 1000 + u64::from(start.1) / 1_000_000
    );
    assert_eq!(
        first["event_properties"],
        json!({"dish_id": 0, "price_cents": 1250, "source": "menu"})
    );
    // An anonymous event: device id only.
    assert!(sent[1].get("user_id").is_none());
    assert_eq!(sent[1]["event_properties"]["coupon"], "AUTUMN");
}

#[test]
fn short_ids_are_kept_with_min_id_length_not_padded() {
    let server = HttpServer::start(vec![]);
    let records = vec![event("cart.item_added", Some("42"), json!({}))];
    let outcome = exporter(&server, 0).send(&records);
    assert_eq!(outcome.exported, 1);
    let body = json_body(&server.requests()[0]);
    assert_eq!(body["events"][0]["user_id"], "42");
    assert_eq!(body["options"]["min_id_length"], 2);
}

#[test]
fn retries_on_503_then_succeeds_with_the_same_insert_ids() {
    retries_on_503_then_succeeds(MAKE, insert_ids);
}

#[test]
fn no_retry_on_401_403_or_a_400_without_detail() {
    let permanent = no_retry_on(
        MAKE,
        vec![
            Reply::json(401, r#"{"error":"Invalid API key"}"#),
            Reply::status(403),
            Reply::json(400, r#"{"code":400,"error":"Invalid API key"}"#),
        ],
        KEY,
    );
    // A 400 refuses the request itself; 401/403 may succeed with a fixed key.
    assert_eq!(permanent, vec![(401, 0), (403, 0), (400, 2)]);
}

#[test]
fn a_429_with_retry_after_waits_at_least_that_long() {
    waits_for_retry_after(MAKE);
}

#[test]
fn a_429_without_retry_after_waits_the_throttle_time_clamped_by_the_config() {
    let server = HttpServer::start(vec![Reply::json(429, r#"{"code":429}"#)]);
    // The documented 30 s wait, clamped to 400 ms here.
    let mut exporter = exporter(&server, 3).max_retry_after(Duration::from_millis(400));
    let outcome = exporter.send(&events(1));
    assert_eq!((outcome.exported, outcome.retried), (1, 1));
    let requests = server.requests();
    let waited = requests[1].received_at - requests[0].received_at;
    // The backoff alone would wait at most 10 ms (see `fast`).
    assert!(waited >= Duration::from_millis(390), "waited {waited:?}");
}

#[test]
fn a_413_splits_the_batch_until_it_fits() {
    splits_on_413(MAKE, insert_ids);
}

#[test]
fn a_partial_400_drops_only_the_named_events_and_resends_the_rest() {
    let server = HttpServer::start(vec![Reply::json(
        400,
        r#"{"code":400,"error":"Request missing required field","events_with_invalid_fields":{"time":[1]},"events_with_missing_fields":{"event_type":[3]}}"#,
    )]);
    let records = events(5);
    let outcome = exporter(&server, 0).send(&records);
    assert_eq!(
        (outcome.exported, outcome.rejected, outcome.failed),
        (3, 2, 0)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(insert_ids(&requests[0]), ids(&records));
    let all = ids(&records);
    assert_eq!(
        insert_ids(&requests[1]),
        vec![all[0].clone(), all[2].clone(), all[4].clone()]
    );
    let reason = outcome.error.expect("the reason").to_string();
    assert!(reason.contains("time"), "{reason}");
}

#[test]
fn max_retries_gives_exactly_one_plus_that_many_requests() {
    max_retries_is_exact(MAKE);
}

#[test]
fn the_time_budget_fails_a_batch_instead_of_waiting_past_it() {
    let server = HttpServer::start(vec![Reply::json(429, "{}").header("Retry-After", "30")]);
    let mut exporter = exporter(&server, 5).max_elapsed(Duration::from_millis(200));
    let started = std::time::Instant::now();
    let outcome = exporter.send(&events(2));
    assert_eq!(
        (outcome.exported, outcome.failed, outcome.retried),
        (0, 2, 0)
    );
    assert_eq!(server.requests().len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "did not wait 30 s"
    );
    let error = outcome.error.expect("an error");
    assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
    assert!(error.to_string().contains("time budget"), "{error}");
}

#[test]
fn the_time_budget_stops_later_requests_while_the_vendor_is_down() {
    // Two requests' worth of events; the server never recovers.
    let server = HttpServer::with_default(vec![], Reply::status(503));
    let mut exporter = exporter(&server, 1000).max_elapsed(Duration::from_secs(1));
    let outcome = exporter.send(&events(AMPLITUDE_MAX_EVENTS + 10));
    assert_eq!(outcome.failed, AMPLITUDE_MAX_EVENTS as u64 + 10);
    let requests = server.requests();
    assert!(requests.len() > 1, "the first part was retried");
    assert!(
        requests
            .iter()
            .all(|r| insert_ids(r).len() == AMPLITUDE_MAX_EVENTS),
        "the second part was never sent"
    );
    assert_eq!(outcome.retried, requests.len() as u64 - 1);
}

#[test]
fn an_answering_vendor_renews_the_time_budget() {
    // Each answer takes 700 ms; the budget is 500 ms, yet every part is delivered.
    let server = HttpServer::with_default(
        vec![],
        Reply::json(200, "{}").delay(Duration::from_millis(700)),
    );
    let mut exporter = exporter(&server, 0).max_elapsed(Duration::from_millis(500));
    // ~400 KB each: two per request.
    let records = notes(5, 400_000);
    let outcome = exporter.send(&records);
    assert_eq!((outcome.exported, outcome.failed), (5, 0));
    let counts: Vec<usize> = server
        .requests()
        .iter()
        .map(|r| insert_ids(r).len())
        .collect();
    assert_eq!(counts, vec![2, 2, 1]);
}

#[test]
fn an_unreachable_endpoint_is_a_clear_retryable_failure() {
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut exporter = fast(
        Amplitude::new(KEY).endpoint(format!("http://127.0.0.1:{port}")),
        1,
    );
    let outcome = exporter.send(&events(3));
    assert_eq!(
        (outcome.failed, outcome.permanent, outcome.retried),
        (3, 0, 1)
    );
    let error = outcome.error.expect("an error").to_string();
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    assert!(!error.contains(KEY), "{error}");
}

#[test]
fn a_malformed_endpoint_fails_at_once_and_names_itself() {
    let mut exporter = fast(Amplitude::new(KEY).endpoint("not a url"), 5);
    let outcome = exporter.send(&events(2));
    assert_eq!((outcome.failed, outcome.retried), (2, 0));
    let error = outcome.error.expect("an error").to_string();
    assert!(
        error.contains("not a url") && error.contains("not a valid URL"),
        "{error}"
    );
}

#[test]
fn a_redirect_is_not_followed() {
    let server = HttpServer::start(vec![
        Reply::status(307).header("location", "http://127.0.0.1:1/elsewhere"),
    ]);
    let outcome = exporter(&server, 3).send(&events(1));
    assert_eq!((outcome.failed, outcome.retried), (1, 0));
    assert_eq!(server.requests().len(), 1);
    assert!(outcome.error.unwrap().to_string().contains("307"));
}

#[test]
fn batches_stay_within_the_count_and_byte_limits() {
    let server = HttpServer::start(vec![]);
    let records = events(AMPLITUDE_MAX_EVENTS + 500);
    let outcome = exporter(&server, 0).send(&records);
    assert_eq!(outcome.exported, records.len() as u64);
    let counts: Vec<usize> = server
        .requests()
        .iter()
        .map(|r| insert_ids(r).len())
        .collect();
    assert_eq!(counts, vec![AMPLITUDE_MAX_EVENTS, 500]);

    // Big events: ~150 KB each, so a request holds 6 of them.
    let server = HttpServer::start(vec![]);
    let mut records = notes(14, 150_000);
    // One event is larger than a whole request may be: never sent.
    let huge = note(AMPLITUDE_MAX_REQUEST_BYTES);
    records.insert(3, huge.clone());
    let outcome = exporter(&server, 0).send(&records);
    assert_eq!(
        (outcome.exported, outcome.rejected, outcome.failed),
        (14, 1, 0)
    );
    let requests = server.requests();
    assert!(requests.len() >= 3, "{} requests", requests.len());
    let mut sent = HashSet::new();
    for request in &requests {
        assert!(
            request.body.len() <= AMPLITUDE_MAX_REQUEST_BYTES,
            "{} bytes",
            request.body.len()
        );
        sent.extend(insert_ids(request));
    }
    assert_eq!(sent.len(), 14);
    assert!(!sent.contains(&huge.id.to_string()));
}

#[test]
fn a_server_that_never_answers_is_cut_off_by_the_timeout() {
    silent_server_is_cut_off(MAKE);
}

#[test]
fn counters_conserve_through_the_pipeline() {
    // The first request names one event invalid; the rest is resent and accepted.
    let server = HttpServer::start(vec![Reply::json(
        400,
        r#"{"code":400,"events_with_invalid_fields":{"time":[0]}}"#,
    )]);
    let config = Config::new("shop", "1.2.0")
        .user_id("user-20391")
        .stats_interval(None)
        .sink(exporter(&server, 2));
    let stats = run_pipeline(config, &[10]);
    assert_eq!(stats.dropped_rejected, 1, "{stats:?}");
    assert_eq!(stats.exported, 9, "{stats:?}");
    let delivered: usize = server
        .requests()
        .iter()
        .skip(1)
        .map(|r| insert_ids(r).len())
        .sum();
    assert_eq!(delivered, 9);
    let body: Value = json_body(&server.requests()[0]);
    assert_eq!(body["events"][0]["event_type"], "cart.item_added");
}

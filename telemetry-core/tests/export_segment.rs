//! Contract tests of the Segment exporter (`/v1/batch`) against a scripted loopback
//! server.

mod export_common;

use std::collections::HashSet;
use std::time::Duration;

use export_common::*;
use serde_json::json;
use telemetry_core::export::{
    SEGMENT_MAX_EVENT_BYTES, SEGMENT_MAX_EVENTS, SEGMENT_MAX_REQUEST_BYTES, Segment, SegmentApi,
};
use telemetry_core::{Config, Sink, emit};
use telemetry_test_support::http::{HttpServer, RecordedRequest, Reply};

const WRITE_KEY: &str = "seg-write-key-0123456789";

fn make(server: &HttpServer, max_retries: u32) -> Segment {
    fast(Segment::new(WRITE_KEY).endpoint(server.url()), max_retries)
}

const MAKE: &Make<SegmentApi> = &make;

fn message_ids(request: &RecordedRequest) -> Vec<String> {
    ids_at(request, "/batch", "/messageId")
}

#[test]
fn the_request_is_as_documented_and_success_exports_everything() {
    let server = HttpServer::start(vec![Reply::json(200, r#"{"success":true}"#)]);
    let mut records = events(1);
    records.push(event("checkout.started", None, json!({"items": 3})));
    let outcome = make(&server, 0).send(&records);
    let request = &the_only_request(&server, &outcome, 2, "/v1/batch", "application/json");
    // Basic auth: the write key as user name, empty password.
    assert_eq!(
        request.header("authorization"),
        Some("Basic c2VnLXdyaXRlLWtleS0wMTIzNDU2Nzg5Og==")
    );
    let body = json_body(request);
    assert!(
        body["sentAt"].as_str().is_some_and(|s| s.ends_with('Z')),
        "{body}"
    );
    let first = &body["batch"][0];
    assert_eq!(first["type"], "track");
    assert_eq!(first["event"], "cart.item_added");
    assert_eq!(first["userId"], "user-20391");
    assert_eq!(first["anonymousId"], "anon-4f1c2d");
    assert_eq!(first["messageId"], records[0].id.to_string());
    assert_eq!(first["timestamp"], "2026-11-25T18:41:11.123Z");
    assert_eq!(first["properties"]["dish_id"], 0);
    assert_eq!(
        first["properties"]["session_id"],
        records[0].context.session_id.clone().unwrap()
    );
    assert_eq!(first["context"]["app"]["version"], "1.2.0");
    assert_eq!(first["context"]["os"]["name"], "linux");
    assert_eq!(first["context"]["locale"], "en-GB");
    assert_eq!(first["context"]["library"]["name"], "telemetry-core");
    let second = &body["batch"][1];
    assert!(second.get("userId").is_none());
    assert_eq!(second["anonymousId"], "anon-4f1c2d");
}

#[test]
fn retries_on_503_then_succeeds_with_the_same_message_ids() {
    retries_on_503_then_succeeds(MAKE, message_ids);
}

#[test]
fn no_retry_on_401_403_or_400() {
    no_retry_on(
        MAKE,
        vec![
            Reply::status(401),
            Reply::status(403),
            Reply::json(400, r#"{"error":"payload too large"}"#),
        ],
        WRITE_KEY,
    );
}

#[test]
fn a_429_with_retry_after_waits_at_least_that_long() {
    waits_for_retry_after(MAKE);
}

#[test]
fn a_413_splits_the_batch_until_it_fits() {
    splits_on_413(MAKE, message_ids);
}

#[test]
fn max_retries_gives_exactly_one_plus_that_many_requests() {
    max_retries_is_exact(MAKE);
}

#[test]
fn events_near_32_kb_and_batches_near_500_kb_stay_within_the_limits() {
    let server = HttpServer::start(vec![]);
    // Events just under the 32 KB limit once encoded, and one just over it.
    let probe = note(0);
    let overhead = probe.to_json().len() + 600;
    let mut records = notes(40, SEGMENT_MAX_EVENT_BYTES - overhead);
    let over = note(SEGMENT_MAX_EVENT_BYTES);
    records.insert(5, over.clone());
    let outcome = make(&server, 0).send(&records);
    assert_eq!(
        (outcome.exported, outcome.rejected, outcome.failed),
        (40, 1, 0)
    );
    let requests = server.requests();
    assert!(requests.len() >= 3, "{} requests", requests.len());
    let mut sent = HashSet::new();
    for request in &requests {
        assert!(
            request.body.len() <= SEGMENT_MAX_REQUEST_BYTES,
            "a request of {} bytes",
            request.body.len()
        );
        for event in json_body(request)["batch"].as_array().unwrap() {
            let size = serde_json::to_vec(event).unwrap().len();
            assert!(size <= SEGMENT_MAX_EVENT_BYTES, "an event of {size} bytes");
            assert!(
                size > SEGMENT_MAX_EVENT_BYTES - 2000,
                "events are near the limit"
            );
        }
        sent.extend(message_ids(request));
    }
    assert_eq!(sent.len(), 40);
    assert!(
        !sent.contains(&over.id.to_string()),
        "an event over 32 KB is never sent"
    );

    // Many small events: at most SEGMENT_MAX_EVENTS per request.
    let server = HttpServer::start(vec![]);
    let outcome = make(&server, 0).send(&events(SEGMENT_MAX_EVENTS + 10));
    assert_eq!(outcome.exported, SEGMENT_MAX_EVENTS as u64 + 10);
    for request in server.requests() {
        assert!(message_ids(&request).len() <= SEGMENT_MAX_EVENTS);
        assert!(request.body.len() <= SEGMENT_MAX_REQUEST_BYTES);
    }
}

#[test]
fn a_server_that_never_answers_is_cut_off_by_the_timeout() {
    silent_server_is_cut_off(MAKE);
}

#[test]
fn counters_conserve_through_the_pipeline() {
    // The first request is refused for good, later ones succeed.
    let server = HttpServer::start(vec![Reply::status(400)]);
    let config = Config::new("shop", "1.2.0")
        .stats_interval(None)
        .sink(make(&server, 2));
    let stats = run_pipeline(config, &[10, 5]);
    let requests = server.requests();
    let first = message_ids(&requests[0]).len() as u64;
    assert_eq!(
        (stats.failed, stats.exported),
        (first, 15 - first),
        "{stats:?}"
    );
}

#[test]
fn shutdown_returns_in_time_while_the_vendor_is_down() {
    let _lock = pipeline_lock();
    let server = HttpServer::with_default(vec![], Reply::status(503));
    let exporter = make(&server, 1_000_000).max_elapsed(Duration::from_millis(300));
    let config = Config::new("shop", "1.2.0")
        .stats_interval(None)
        .sink(exporter);
    let guard = telemetry_core::init(config);
    for dish_id in 0..20 {
        emit!(ItemAdded { dish_id });
    }
    // The time budget bounds the retries, so the writer finishes well within this.
    assert!(guard.shutdown(Duration::from_secs(20)));
    let stats = telemetry_core::stats();
    assert_eq!(stats.emitted, 20, "{stats:?}");
    assert_eq!(
        (stats.failed, stats.exported, stats.lost()),
        (20, 0, 0),
        "{stats:?}"
    );
    assert!(stats.retried > 0, "{stats:?}");
}

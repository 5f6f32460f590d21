//! Contract tests of the PostHog exporter (`/batch/`) against a scripted loopback
//! server, after the cases of PostHog's SDK compliance harness.

mod export_common;

use std::collections::HashSet;

use export_common::*;
use serde_json::json;
use telemetry_core::export::{POSTHOG_MAX_EVENT_BYTES, POSTHOG_MAX_EVENTS, PostHog, PostHogApi};
use telemetry_core::{Config, Sink};
use telemetry_test_support::http::{HttpServer, RecordedRequest, Reply};

const KEY: &str = "phc_0123456789abcdef";

fn make(server: &HttpServer, max_retries: u32) -> PostHog {
    fast(PostHog::new(KEY).endpoint(server.url()), max_retries)
}

const MAKE: &Make<PostHogApi> = &make;

fn uuids(request: &RecordedRequest) -> Vec<String> {
    ids_at(request, "/batch", "/uuid")
}

#[test]
fn the_request_is_as_documented_and_success_exports_everything() {
    let server = HttpServer::start(vec![Reply::json(200, r#"{"status":1}"#)]);
    let mut records = events(1);
    records.push(event("checkout.started", None, json!({"items": 3})));
    let outcome = make(&server, 0).send(&records);
    let request = &the_only_request(&server, &outcome, 2, "/batch/", "application/json");
    assert!(
        request.header("authorization").is_none(),
        "the key goes in the body"
    );
    let body = json_body(request);
    assert_eq!(body["api_key"], KEY);
    let first = &body["batch"][0];
    assert_eq!(first["event"], "cart.item_added");
    assert_eq!(first["distinct_id"], "user-20391");
    assert_eq!(first["uuid"], records[0].id.to_string());
    assert_eq!(first["timestamp"], "2026-11-25T18:41:11.123Z");
    let p = &first["properties"];
    assert_eq!(
        p["$session_id"],
        records[0].context.session_id.clone().unwrap()
    );
    assert_eq!(p["$device_id"], "anon-4f1c2d");
    assert_eq!(p["$app_version"], "1.2.0");
    assert_eq!(p["$lib"], "telemetry-core");
    assert_eq!(
        (p["dish_id"].clone(), p["price_cents"].clone()),
        (json!(0), json!(1250))
    );
    assert_eq!(body["batch"][1]["distinct_id"], "anon-4f1c2d");
}

#[test]
fn retries_on_503_then_succeeds_with_the_same_uuids() {
    retries_on_503_then_succeeds(MAKE, uuids);
}

#[test]
fn no_retry_on_401_403_or_400() {
    no_retry_on(
        MAKE,
        vec![
            Reply::json(401, r#"{"type":"authentication_error"}"#),
            Reply::status(403),
            Reply::json(400, r#"{"type":"validation_error"}"#),
        ],
        KEY,
    );
}

#[test]
fn a_429_with_retry_after_waits_at_least_that_long() {
    waits_for_retry_after(MAKE);
}

#[test]
fn a_413_is_not_retried_but_split() {
    splits_on_413(MAKE, uuids);
}

#[test]
fn max_retries_gives_exactly_one_plus_that_many_requests() {
    max_retries_is_exact(MAKE);
}

#[test]
fn batches_stay_within_the_count_and_byte_limits() {
    let server = HttpServer::start(vec![]);
    let mut records = events(POSTHOG_MAX_EVENTS * 2 + 3);
    let huge = note(POSTHOG_MAX_EVENT_BYTES);
    records.push(huge.clone());
    let outcome = make(&server, 0).send(&records);
    assert_eq!(
        (outcome.exported, outcome.rejected),
        (POSTHOG_MAX_EVENTS as u64 * 2 + 3, 1)
    );
    let requests = server.requests();
    let counts: Vec<usize> = requests.iter().map(|r| uuids(r).len()).collect();
    assert_eq!(counts, vec![POSTHOG_MAX_EVENTS, POSTHOG_MAX_EVENTS, 3]);
    let sent: HashSet<String> = requests.iter().flat_map(uuids).collect();
    assert!(!sent.contains(&huge.id.to_string()));
}

#[test]
fn a_server_that_never_answers_is_cut_off_by_the_timeout() {
    silent_server_is_cut_off(MAKE);
}

#[test]
fn counters_conserve_through_the_pipeline() {
    // Always 503: every batch fails after its retries.
    let server = HttpServer::with_default(vec![], Reply::status(503));
    let config = Config::new("shop", "1.2.0")
        .stats_interval(None)
        .sink(make(&server, 1));
    let stats = run_pipeline(config, &[10]);
    let requests = server.requests();
    assert_eq!(stats.failed, 10, "{stats:?}");
    assert_eq!(stats.retried, requests.len() as u64 / 2, "{stats:?}");
    assert_eq!(
        requests.len() % 2,
        0,
        "each batch: one request and one retry"
    );
}

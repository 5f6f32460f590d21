//! Contract tests of the Mixpanel exporter (`/import?strict=1`) against a scripted
//! loopback server.

mod export_common;

use std::collections::HashSet;

use export_common::*;
use serde_json::json;
use telemetry_core::export::{
    MIXPANEL_MAX_EVENT_BYTES, MIXPANEL_MAX_EVENTS, Mixpanel, MixpanelApi,
};
use telemetry_core::{Config, Sink};
use telemetry_test_support::http::{HttpServer, RecordedRequest, Reply};

const TOKEN: &str = "mp-token-0123456789";

fn make(server: &HttpServer, max_retries: u32) -> Mixpanel {
    fast(Mixpanel::new(TOKEN).endpoint(server.url()), max_retries)
}

const MAKE: &Make<MixpanelApi> = &make;

fn insert_ids(request: &RecordedRequest) -> Vec<String> {
    ids_at(request, "", "/properties/$insert_id")
}

#[test]
fn the_request_is_as_documented_and_success_exports_everything() {
    let server = HttpServer::start(vec![Reply::json(
        200,
        r#"{"code":200,"num_records_imported":2,"status":"OK"}"#,
    )]);
    let mut records = events(1);
    records.push(event("checkout.started", None, json!({"items": 3})));
    let outcome = make(&server, 0).send(&records);
    let request = &the_only_request(&server, &outcome, 2, "/import", "application/json");
    assert_eq!(request.query_param("strict"), Some("1"));
    // Basic auth: the token as user name, empty password.
    assert_eq!(
        request.header("authorization"),
        Some("Basic bXAtdG9rZW4tMDEyMzQ1Njc4OTo=")
    );
    let body = json_body(request);
    let first = &body[0];
    assert_eq!(first["event"], "cart.item_added");
    let p = &first["properties"];
    assert_eq!(p["time"], 1_795_632_071_123u64);
    assert_eq!(p["distinct_id"], "user-20391");
    assert_eq!(p["$user_id"], "user-20391");
    assert_eq!(p["$device_id"], "anon-4f1c2d");
    assert_eq!(p["$insert_id"], records[0].id.to_string());
    assert_eq!(p["$insert_id"].as_str().unwrap().len(), 36);
    assert_eq!(p["token"], TOKEN);
    assert_eq!(p["$app_version_string"], "1.2.0");
    assert_eq!(
        p["session_id"],
        records[0].context.session_id.clone().unwrap()
    );
    assert_eq!(
        (p["dish_id"].clone(), p["source"].clone()),
        (json!(0), json!("menu"))
    );
    // Anonymous: the anonymous id is the distinct id.
    assert_eq!(body[1]["properties"]["distinct_id"], "anon-4f1c2d");
    assert!(body[1]["properties"].get("$user_id").is_none());
}

#[test]
fn a_service_account_authenticates_with_basic_auth_and_the_project_id() {
    let server = HttpServer::start(vec![]);
    let mut exporter = fast(
        Mixpanel::service_account("bot.mp-service-account", "s3cret", "1234567")
            .endpoint(server.url()),
        0,
    );
    assert!(!format!("{exporter:?}").contains("s3cret"));
    assert_eq!(exporter.send(&events(1)).exported, 1);
    let request = &server.requests()[0];
    assert_eq!(request.query_param("project_id"), Some("1234567"));
    assert_eq!(request.query_param("strict"), Some("1"));
    assert_eq!(
        request.header("authorization"),
        Some("Basic Ym90Lm1wLXNlcnZpY2UtYWNjb3VudDpzM2NyZXQ=")
    );
    assert!(json_body(request)[0]["properties"].get("token").is_none());
}

#[test]
fn retries_on_503_then_succeeds_with_the_same_insert_ids() {
    retries_on_503_then_succeeds(MAKE, insert_ids);
}

#[test]
fn no_retry_on_401_403_or_a_400_without_failed_records() {
    no_retry_on(
        MAKE,
        vec![
            Reply::json(401, r#"{"error":"Invalid credentials"}"#),
            Reply::status(403),
            Reply::json(400, r#"{"code":400,"error":"malformed JSON"}"#),
        ],
        TOKEN,
    );
}

#[test]
fn a_429_with_retry_after_waits_at_least_that_long() {
    waits_for_retry_after(MAKE);
}

#[test]
fn a_413_splits_the_batch_until_it_fits() {
    splits_on_413(MAKE, insert_ids);
}

#[test]
fn a_partial_400_rejects_the_failed_records_and_never_resends() {
    let records = events(5);
    let body = json!({
        "code": 400,
        "error": "some data points in the request failed validation",
        "num_records_imported": 3,
        "status": "Bad Request",
        "failed_records": [
            {"index": 1, "$insert_id": records[1].id.to_string(), "field": "properties.time",
             "message": "'properties.time' is invalid: must be specified as seconds since epoch"},
            // Found by its insert id when the index is missing.
            {"insert_id": records[3].id.to_string(), "field": "properties.distinct_id",
             "message": "'properties.distinct_id' is invalid"},
        ],
    });
    let server = HttpServer::start(vec![Reply::json(400, body.to_string())]);
    let outcome = make(&server, 3).send(&records);
    assert_eq!(
        (outcome.exported, outcome.rejected, outcome.failed),
        (3, 2, 0)
    );
    assert_eq!(
        server.requests().len(),
        1,
        "the valid events are already ingested"
    );
    let reason = outcome.error.expect("the reason").to_string();
    assert!(reason.contains("properties.time"), "{reason}");
}

#[test]
fn max_retries_gives_exactly_one_plus_that_many_requests() {
    max_retries_is_exact(MAKE);
}

#[test]
fn batches_stay_within_the_count_and_byte_limits() {
    let server = HttpServer::start(vec![]);
    let mut records = events(MIXPANEL_MAX_EVENTS + 1);
    let huge = note(MIXPANEL_MAX_EVENT_BYTES);
    records.insert(10, huge.clone());
    let outcome = make(&server, 0).send(&records);
    assert_eq!(
        (outcome.exported, outcome.rejected, outcome.failed),
        (MIXPANEL_MAX_EVENTS as u64 + 1, 1, 0)
    );
    let requests = server.requests();
    let counts: Vec<usize> = requests.iter().map(|r| insert_ids(r).len()).collect();
    assert_eq!(counts, vec![MIXPANEL_MAX_EVENTS, 1]);
    let sent: HashSet<String> = requests.iter().flat_map(insert_ids).collect();
    assert!(
        !sent.contains(&huge.id.to_string()),
        "an event over 1 MB is never sent"
    );
}

#[test]
fn placeholder_distinct_ids_are_rejected_before_sending() {
    let server = HttpServer::start(vec![]);
    let records = vec![
        event("cart.item_added", Some("undefined"), json!({})),
        event("cart.item_added", Some("user-20391"), json!({})),
    ];
    let outcome = make(&server, 0).send(&records);
    assert_eq!((outcome.exported, outcome.rejected), (1, 1));
    assert_eq!(
        insert_ids(&server.requests()[0]),
        vec![records[1].id.to_string()]
    );
    let reason = outcome.error.expect("the reason").to_string();
    assert!(reason.contains("undefined"), "{reason}");
}

#[test]
fn a_server_that_never_answers_is_cut_off_by_the_timeout() {
    silent_server_is_cut_off(MAKE);
}

#[test]
fn counters_conserve_through_the_pipeline() {
    // Every request names its first event invalid (the rest is ingested).
    let server = HttpServer::with_handler(|request, _| {
        let first = json_body(request)[0]["properties"]["$insert_id"].clone();
        Reply::json(
            400,
            json!({"code": 400, "num_records_imported": 0, "failed_records": [
                {"index": 0, "$insert_id": first, "field": "properties.time", "message": "too old"}
            ]})
            .to_string(),
        )
    });
    let config = Config::new("shop", "1.2.0")
        .user_id("user-20391")
        .stats_interval(None)
        .sink(make(&server, 2));
    let stats = run_pipeline(config, &[10]);
    let requests = server.requests();
    assert_eq!(stats.dropped_rejected, requests.len() as u64, "{stats:?}");
    assert_eq!(stats.exported, 10 - requests.len() as u64, "{stats:?}");
    let sent: Vec<String> = requests.iter().flat_map(insert_ids).collect();
    let unique: HashSet<&String> = sent.iter().collect();
    assert_eq!((sent.len(), unique.len()), (10, 10), "no event sent twice");
}

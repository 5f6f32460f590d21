//! Contract tests of the GA4 Measurement Protocol exporter against a scripted loopback
//! server.

mod export_common;

use export_common::*;
use serde_json::json;
use telemetry_core::export::{GA4_MAX_EVENTS, GA4_MAX_PARAM_VALUE, Ga4, Ga4Api};
use telemetry_core::{Config, Sink};
use telemetry_test_support::http::{HttpServer, RecordedRequest, Reply};

const SECRET: &str = "ga4-secret-0123456789";

fn make(server: &HttpServer, max_retries: u32) -> Ga4 {
    let ga4 = Ga4::new("G-TEST123", SECRET).expect("the test catalog maps onto GA4");
    fast(ga4.endpoint(server.url()), max_retries)
}

const MAKE: &Make<Ga4Api> = &make;

/// The record ids, sent as the `event_id` param (GA4 has no id field of its own).
fn event_ids(request: &RecordedRequest) -> Vec<String> {
    ids_at(request, "/events", "/params/event_id")
}

#[test]
fn the_request_is_as_documented_and_success_exports_everything() {
    let server = HttpServer::start(vec![Reply::status(204)]);
    let records = vec![
        event(
            "cart.item_added",
            Some("user-20391"),
            json!({"dish_id": 7, "note": "n".repeat(150), "express": true}),
        ),
        event("error", Some("user-20391"), json!({"code": 3})),
    ];
    let outcome = make(&server, 0).send(&records);
    let request = &the_only_request(&server, &outcome, 2, "/mp/collect", "application/json");
    assert_eq!(request.query_param("measurement_id"), Some("G-TEST123"));
    assert_eq!(request.query_param("api_secret"), Some(SECRET));
    let body = json_body(request);
    assert_eq!(body["client_id"], "anon-4f1c2d");
    assert_eq!(body["user_id"], "user-20391");
    let first = &body["events"][0];
    assert_eq!(first["name"], "cart_item_added");
    assert_eq!(first["timestamp_micros"], 1_795_632_071_123_000u64);
    let params = &first["params"];
    assert_eq!(params["dish_id"], 7);
    assert_eq!(params["express"], "true");
    assert_eq!(params["note"].as_str().unwrap().len(), GA4_MAX_PARAM_VALUE);
    assert_eq!(params["engagement_time_msec"], 1);
    assert_eq!(params["app_version"], "1.2.0");
    assert_eq!(params["event_id"], records[0].id.to_string());
    let session = records[0].context.session_id.as_deref().unwrap();
    let (secs, _) = uuid::Uuid::parse_str(session)
        .unwrap()
        .get_timestamp()
        .unwrap()
        .to_unix();
    assert_eq!(params["session_id"], secs.to_string());
    // A reserved event name gets a prefix.
    assert_eq!(body["events"][1]["name"], "e_error");
}

#[test]
fn a_request_carries_one_user_and_at_most_25_events() {
    let server = HttpServer::start(vec![]);
    let mut records = events(GA4_MAX_EVENTS + 5);
    records.insert(
        3,
        event(
            "cart.item_added",
            Some("user-777777"),
            json!({"dish_id": 99}),
        ),
    );
    let outcome = make(&server, 0).send(&records);
    assert_eq!(outcome.exported, records.len() as u64);
    let requests = server.requests();
    let shape: Vec<(String, usize)> = requests
        .iter()
        .map(|r| {
            let body = json_body(r);
            (
                body["user_id"].as_str().unwrap().to_owned(),
                body["events"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            ("user-20391".to_owned(), 3),
            ("user-777777".to_owned(), 1),
            ("user-20391".to_owned(), GA4_MAX_EVENTS),
            ("user-20391".to_owned(), 2),
        ]
    );
}

#[test]
fn events_ga4_would_drop_silently_are_rejected_before_sending() {
    let server = HttpServer::start(vec![]);
    let many: serde_json::Map<String, serde_json::Value> =
        (0..30).map(|i| (format!("p{i}"), json!(i))).collect();
    let records = vec![
        event(
            "cart.item_added",
            Some("user-20391"),
            serde_json::Value::Object(many),
        ),
        event("cart.item_added", Some("user-20391"), json!({"dish_id": 1})),
    ];
    let outcome = make(&server, 0).send(&records);
    assert_eq!((outcome.exported, outcome.rejected), (1, 1));
    let requests = server.requests();
    assert_eq!(event_ids(&requests[0]), vec![records[1].id.to_string()]);
    let reason = outcome.error.expect("the reason").to_string();
    assert!(reason.contains("params"), "{reason}");
}

#[test]
fn retries_on_503_then_succeeds_with_the_same_events() {
    retries_on_503_then_succeeds(MAKE, event_ids);
}

#[test]
fn no_retry_on_401_403_or_400() {
    no_retry_on(
        MAKE,
        vec![Reply::status(401), Reply::status(403), Reply::status(400)],
        SECRET,
    );
}

#[test]
fn a_429_with_retry_after_waits_at_least_that_long() {
    waits_for_retry_after(MAKE);
}

#[test]
fn max_retries_gives_exactly_one_plus_that_many_requests() {
    max_retries_is_exact(MAKE);
}

#[test]
fn a_server_that_never_answers_is_cut_off_by_the_timeout() {
    silent_server_is_cut_off(MAKE);
}

#[test]
fn errors_and_debug_output_never_show_the_api_secret() {
    let exporter = make(&HttpServer::start(vec![]), 0).endpoint("http://127.0.0.1:1");
    assert!(!format!("{exporter:?}").contains(SECRET));
    let mut exporter = exporter.max_retries(0);
    let outcome = exporter.send(&events(1));
    assert_eq!(outcome.failed, 1);
    let error = outcome.error.expect("an error").to_string();
    assert!(!error.contains(SECRET), "{error}");
    assert!(!exporter.name().contains(SECRET));
}

#[test]
fn counters_conserve_through_the_pipeline() {
    let server = HttpServer::start(vec![Reply::status(503)]);
    let config = Config::new("shop", "1.2.0")
        .stats_interval(None)
        .sink(make(&server, 2));
    let stats = run_pipeline(config, &[10]);
    assert_eq!((stats.exported, stats.retried), (10, 1), "{stats:?}");
    let names: Vec<String> = server
        .requests()
        .iter()
        .flat_map(|r| {
            json_body(r)["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(names.iter().all(|n| n == "cart_item_added"), "{names:?}");
}

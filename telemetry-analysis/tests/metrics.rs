//! Hand-computed fixtures for every metric, with the edge cases: a user active only on
//! the last day of a window, records out of order, a funnel step done twice, steps out
//! of order, conversions just inside and just outside the window, malformed lines,
//! unknown events and records without a user.

use std::collections::BTreeSet;

use telemetry_analysis::{Analyzer, Options, Report};
use telemetry_core::catalog::{FilterValue, Funnel, StepFilter};

fn line(ts: &str, name: &str, user: Option<&str>, props: &str, call: &str) -> String {
    let id = user.map_or(String::new(), |u| format!(r#","user_id":"{u}""#));
    format!(
        r#"{{"format":1,"type":"event","id":"019ab3c2-5d1e-7f3a-9c4b-2e8d7f6a5b4c","timestamp":"{ts}","name":"{name}","version":1,"properties":{{{props}}},"context":{{"app_name":"a","app_version":"1.0","os":"linux","arch":"x86_64"{id}}}{call}}}"#
    )
}

fn run(options: Options, lines: &[String]) -> Report {
    let mut a = Analyzer::new(options);
    for l in lines {
        a.add_line(l);
    }
    a.finish()
}

fn day(d: u32, user: &str) -> String {
    line(
        &format!("2026-01-{d:02}T12:00:00.000Z"),
        "app.opened",
        Some(user),
        "",
        "",
    )
}

#[test]
fn active_users_retention_churn_and_input_problems() {
    let lines = vec![
        day(2, "u1"), // out of order: day 2 before day 1
        day(1, "u1"),
        day(1, "u1"),  // twice the same day: counts once
        day(10, "u2"), // active only on the last day
        day(4, "u3"),
        "{not json".to_owned(),
        String::new(),                                                // blank: ignored
        line("2026-01-05T00:00:00.000Z", "app.opened", None, "", ""), // no user
        line(
            "2026-01-04T23:59:59.999Z",
            "mystery.event",
            Some("u3"),
            "",
            "",
        ),
    ];
    let options = Options {
        known_events: Some(BTreeSet::from(["app.opened".to_owned()])),
        ..Options::default()
    };
    let r = run(options, &lines);
    assert_eq!(r.input.lines, 8);
    assert_eq!(r.input.records, 7);
    assert_eq!(
        (r.input.malformed_lines, r.input.malformed_examples.clone()),
        (1, vec![6])
    );
    assert_eq!(r.input.unknown_events["mystery.event"], 1);
    assert_eq!(r.input.missing_user, 1);
    assert_eq!(r.input.first_day.as_deref(), Some("2026-01-01"));
    assert_eq!(r.input.last_day.as_deref(), Some("2026-01-10"));

    let au = r.active_users.unwrap();
    let dau: Vec<u64> = au.series.iter().map(|d| d.dau).collect();
    let wau: Vec<u64> = au.series.iter().map(|d| d.wau).collect();
    let mau: Vec<u64> = au.series.iter().map(|d| d.mau).collect();
    assert_eq!(dau, [1, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
    // Day 8's week is days 2..=8 (u1 on day 2, u3 on day 4); day 9's is 3..=9 (u3).
    assert_eq!(wau, [1, 1, 1, 2, 2, 2, 2, 2, 1, 2]);
    assert_eq!(mau, [1, 1, 1, 2, 2, 2, 2, 2, 2, 3]);
    assert_eq!(au.series[9].stickiness, 1.0 / 3.0);
    // Mean DAU over the 10 days (0.4) over the last day's MAU (3).
    assert!((au.stickiness - 0.4 / 3.0).abs() < 1e-12);
    assert!(au.groups.is_empty());

    let ret = r.retention.unwrap();
    let c: Vec<(u64, Vec<u64>, Vec<u64>)> = ret
        .cohorts
        .iter()
        .map(|c| (c.users, c.on_day.clone(), c.on_or_after_day.clone()))
        .collect();
    assert_eq!(
        c[0],
        (
            1,
            vec![1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
            vec![1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
        )
    );
    assert_eq!(
        c[1],
        (1, vec![1, 0, 0, 0, 0, 0, 0], vec![1, 0, 0, 0, 0, 0, 0])
    );
    assert_eq!(c[2], (1, vec![1], vec![1]));
    // Day 1 is observable for the cohorts of days 1 and 4: one of their two users.
    assert_eq!(ret.on_day[..2], [1.0, 0.5]);

    // Weeks from day 1: days 1..=7 (u1, u3), then days 8..=10 (u2).
    assert_eq!(r.churn.len(), 1);
    let w = &r.churn[0];
    assert_eq!(
        (w.days, w.active, w.previous, w.churned, w.rate),
        (3, 1, 2, 2, 1.0)
    );
}

#[test]
fn on_or_after_counts_a_later_return() {
    let r = run(Options::default(), &[day(1, "u"), day(4, "u")]);
    let c = &r.retention.unwrap().cohorts[0];
    assert_eq!(c.on_day, [1, 0, 0, 1]);
    assert_eq!(c.on_or_after_day, [1, 1, 1, 1]);
}

#[test]
fn active_users_by_a_field() {
    let lines = vec![
        line(
            "2026-01-01T00:00:00.000Z",
            "a.b",
            Some("u1"),
            r#""plan":"free""#,
            "",
        ),
        line(
            "2026-01-01T00:00:00.000Z",
            "a.b",
            Some("u2"),
            r#""plan":"pro""#,
            "",
        ),
        line(
            "2026-01-02T00:00:00.000Z",
            "a.b",
            Some("u1"),
            r#""plan":"pro""#,
            "",
        ),
        line("2026-01-02T00:00:00.000Z", "a.b", Some("u3"), "", ""),
    ];
    let r = run(
        Options {
            by: Some("plan".into()),
            ..Options::default()
        },
        &lines,
    );
    let au = r.active_users.unwrap();
    let g: Vec<(&str, u64, u64, u64)> = au
        .groups
        .iter()
        .map(|g| (&*g.group, g.users, g.dau, g.mau))
        .collect();
    assert_eq!(
        g,
        [("(none)", 1, 1, 1), ("free", 1, 0, 1), ("pro", 2, 1, 2)]
    );
    // Together, u1 counts once a day.
    assert_eq!(au.series[1].dau, 2);
    assert_eq!(au.series[1].mau, 3);
}

#[test]
fn active_events_only() {
    let lines = vec![
        line("2026-01-01T00:00:00.000Z", "app.opened", Some("u1"), "", ""),
        line(
            "2026-01-01T00:00:00.000Z",
            "push.received",
            Some("u2"),
            "",
            "",
        ),
    ];
    let r = run(
        Options {
            active_events: Some(BTreeSet::from(["app.opened".to_owned()])),
            ..Options::default()
        },
        &lines,
    );
    assert_eq!(r.active_users.unwrap().series[0].dau, 1);
    assert_eq!(r.active_events, ["app.opened"]);
}

fn funnel() -> Funnel {
    let json = r#"{"name": "f", "description": "d", "window": "1h", "steps": [
        {"event": "a.s"}, {"event": "b.s"},
        {"event": "c.s", "filters": [{"property": "method", "equals": "upi"}]}]}"#;
    let f: Funnel = serde_json::from_str(json).unwrap();
    assert_eq!(
        f.steps[2].filters[0],
        StepFilter::new("method", FilterValue::str("upi"))
    );
    f
}

#[test]
fn funnel_order_window_filters_and_breakdown() {
    let at = |t: &str, name: &str, user: &str, props: &str| {
        line(&format!("2026-01-01T{t}Z"), name, Some(user), props, "")
    };
    let upi = r#""method":"upi""#;
    let lines = vec![
        // u1: b done twice; c exactly one window after a: inside (3600 s).
        at("10:00:00.000", "a.s", "u1", r#""source":"x""#),
        at("10:10:00.000", "b.s", "u1", ""),
        at("10:20:00.000", "b.s", "u1", ""),
        at("11:00:00.000", "c.s", "u1", upi),
        // u2: c one millisecond too late: reaches step 2.
        at("10:00:00.000", "a.s", "u2", r#""source":"y""#),
        at("10:30:00.000", "b.s", "u2", ""),
        at("11:00:00.001", "c.s", "u2", upi),
        // u3: b before a does not count: step 1 only.
        at("09:00:00.000", "b.s", "u3", ""),
        at("10:00:00.000", "a.s", "u3", r#""source":"y""#),
        at("10:05:00.000", "c.s", "u3", upi),
        // u4: a card payment does not match the step; the UPI one does (180 s).
        at("10:00:00.000", "a.s", "u4", r#""source":"y""#),
        at("10:01:00.000", "b.s", "u4", ""),
        at("10:02:00.000", "c.s", "u4", r#""method":"card""#),
        at("10:03:00.000", "c.s", "u4", upi),
        // u5: written in reverse order (120 s).
        at("10:02:00.000", "c.s", "u5", upi),
        at("10:01:00.000", "b.s", "u5", ""),
        at("10:00:00.000", "a.s", "u5", r#""source":"y""#),
    ];
    let r = run(
        Options {
            funnels: vec![funnel()],
            funnel_breakdown: Some("source".into()),
            ..Options::default()
        },
        &lines,
    );
    let f = &r.funnels[0];
    let users: Vec<u64> = f.steps.iter().map(|s| s.users).collect();
    assert_eq!(users, [5, 4, 3]);
    let dropped: Vec<u64> = f.steps.iter().map(|s| s.dropped).collect();
    assert_eq!(dropped, [0, 1, 1]);
    assert_eq!(f.steps[2].step, r#"c.s where method = "upi""#);
    assert_eq!(f.steps[2].conversion_from_previous, 0.75);
    assert_eq!((f.converted, f.conversion), (3, 0.6));
    // Times to convert: 120 s, 180 s, 3600 s.
    assert_eq!(f.median_seconds_to_convert, Some(180.0));
    assert_eq!(f.breakdown["x"], [1, 1, 1]);
    assert_eq!(f.breakdown["y"], [4, 3, 2]);
}

#[test]
fn funnel_retries_from_a_later_start() {
    // The first attempt runs out of window; a second start converts.
    let at = |t: &str, name: &str| {
        line(
            &format!("2026-01-01T{t}Z"),
            name,
            Some("u"),
            r#""method":"upi""#,
            "",
        )
    };
    let lines = [
        at("08:00:00.000", "a.s"),
        at("10:00:00.000", "a.s"),
        at("10:10:00.000", "b.s"),
        at("10:20:00.000", "c.s"),
    ];
    let r = run(
        Options {
            funnels: vec![funnel()],
            ..Options::default()
        },
        &lines,
    );
    assert_eq!(r.funnels[0].converted, 1);
    assert_eq!(r.funnels[0].median_seconds_to_convert, Some(1200.0));
}

#[test]
fn reliability_per_function_and_event() {
    let mut lines = Vec::new();
    for ms in 1..=10 {
        let outcome = match ms {
            2 | 3 => r#""outcome":"error","error_kind":"CardDeclined""#,
            4 => r#""outcome":"panicked""#,
            5 => r#""outcome":"cancelled""#,
            _ => r#""outcome":"ok""#,
        };
        let call = format!(r#","call":{{"function":"shop::pay","duration_ms":{ms},{outcome}}}"#);
        let d = if ms <= 5 { 1 } else { 2 };
        lines.push(line(
            &format!("2026-01-0{d}T00:00:00.000Z"),
            "checkout.payment",
            Some("u"),
            "",
            &call,
        ));
    }
    lines.push(line("2026-01-01T00:00:00.000Z", "app.opened", None, "", ""));
    let r = run(Options::default(), &lines);
    let f = &r.reliability.functions[0];
    assert_eq!(f.name, "shop::pay");
    assert_eq!((f.calls, f.errors, f.panics, f.cancelled), (10, 2, 1, 1));
    assert_eq!(f.error_rate, 0.3);
    assert_eq!(f.error_kinds["CardDeclined"], 2);
    let p = f.latency_ms.unwrap();
    assert_eq!((p.p50, p.p90, p.p99, p.exact), (5.0, 9.0, 10.0, true));
    assert_eq!(f.by_day["2026-01-01"], (5, 3));
    assert_eq!(f.by_day["2026-01-02"], (5, 0));
    assert_eq!(r.reliability.events[0].name, "checkout.payment");
    assert_eq!(r.reliability.events[0].calls, 10);
    assert_eq!(r.reliability.events.len(), 1);
}

#[test]
fn pipeline_stats_records_are_not_product_events() {
    let stats = r#"{"format":1,"type":"stats","id":"019ab3c2-5d1e-7f3a-9c4b-2e8d7f6a5b4d","timestamp":"2026-01-01T12:00:00.000Z","name":"telemetry.stats","version":1,"properties":{"emitted":3},"context":{"app_name":"a","app_version":"1.0","os":"linux","arch":"x86_64","user_id":"u9"}}"#;
    let with = run(Options::default(), &[day(1, "u1"), stats.to_owned()]);
    let without = run(Options::default(), &[day(1, "u1")]);
    assert_eq!(with.input.records, 1);
    assert_eq!(with.input.malformed_lines, 0);
    assert_eq!(
        serde_json::to_string(&with.active_users).unwrap(),
        serde_json::to_string(&without.active_users).unwrap()
    );
}

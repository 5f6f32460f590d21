//! Hand-computed fixtures for every metric, with the edge cases: a user active only on
//! the last day of a window, records out of order, a funnel step done twice, steps out
//! of order, conversions just inside and just outside the window, malformed lines,
//! unknown events and records without a user (located by file and line), days in
//! another time zone, sampled records, and long runs of a funnel step.

use std::collections::BTreeSet;

use telemetry_analysis::{Analyzer, Options, Report, TimeZone};
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

/// Same records, three zones. Hand-computed:
///
/// | record              | UTC        | Europe/Paris (+1) | America/New_York (-4, DST since 8 March) |
/// |---------------------|------------|-------------------|------------------------------------------|
/// | u1 2026-03-10 23:30 | 10th       | 11th 00:30        | 10th 19:30                               |
/// | u1 2026-03-11 12:00 | 11th       | 11th              | 11th 08:00                               |
/// | u2 2026-03-11 02:00 | 11th       | 11th 03:00        | 10th 22:00                               |
///
/// UTC: DAU [1, 2]; Paris: one day, DAU [2]; New York: DAU [2, 1], and the cohort of
/// the 10th holds both users, one of whom comes back on day 1.
#[test]
fn days_are_calendar_days_of_the_time_zone() {
    let lines = [
        line("2026-03-10T23:30:00.000Z", "app.opened", Some("u1"), "", ""),
        line("2026-03-11T12:00:00.000Z", "app.opened", Some("u1"), "", ""),
        line("2026-03-11T02:00:00.000Z", "app.opened", Some("u2"), "", ""),
    ];
    let in_zone = |zone: &str| {
        run(
            Options {
                time_zone: TimeZone::get(zone).unwrap(),
                ..Options::default()
            },
            &lines,
        )
    };
    let dau = |r: &Report| -> Vec<(String, u64)> {
        let au = r.active_users.as_ref().unwrap();
        au.series
            .iter()
            .map(|d| (telemetry_analysis::date(d.day), d.dau))
            .collect()
    };
    let utc = in_zone("UTC");
    assert_eq!(utc.input.time_zone, "UTC");
    assert_eq!(
        dau(&utc),
        [("2026-03-10".into(), 1), ("2026-03-11".into(), 2)]
    );
    let paris = in_zone("Europe/Paris");
    assert_eq!(paris.input.time_zone, "Europe/Paris");
    assert_eq!(dau(&paris), [("2026-03-11".into(), 2)]);
    assert_eq!(paris.input.first_day.as_deref(), Some("2026-03-11"));
    let ny = in_zone("America/New_York");
    assert_eq!(
        dau(&ny),
        [("2026-03-10".into(), 2), ("2026-03-11".into(), 1)]
    );
    let cohort = &ny.retention.unwrap().cohorts[0];
    assert_eq!((cohort.users, cohort.on_day.clone()), (2, vec![2, 1]));
    let cohorts = utc.retention.unwrap().cohorts;
    assert_eq!(cohorts.len(), 2);
    assert_eq!(
        (cohorts[0].users, cohorts[0].on_day.clone()),
        (1, vec![1, 1])
    );
}

/// Sampled records stand for 1 / rate events, and a sampled user for 1 / rate users.
/// Hand-computed: u1 is kept at 0.5 (weight 2), u2 unsampled (1), u3 kept at 0.25 (4).
/// Day 1: u1 + u2 = 3; day 2: u1 + u3 = 6; WAU on day 2: 2 + 1 + 4 = 7. Funnel a -> b:
/// u1 and u2 start (3 users), u1 converts (2): conversion 2/3. Calls: one error kept at
/// 0.1 (10 calls, 10 errors) and one unsampled success: 11 calls, error rate 10/11. A
/// rate of 2 is invalid and counts once.
#[test]
fn sampled_records_are_scaled_up() {
    let rate = |r: &str| format!(r#","sample_rate":{r}"#);
    let call = |outcome: &str, r: &str| {
        format!(
            r#","call":{{"function":"shop::pay","duration_ms":3,"outcome":"{outcome}"}}{}"#,
            if r.is_empty() { String::new() } else { rate(r) }
        )
    };
    let lines = [
        line(
            "2026-01-01T10:00:00.000Z",
            "a.s",
            Some("u1"),
            "",
            &rate("0.5"),
        ),
        line(
            "2026-01-01T10:01:00.000Z",
            "b.s",
            Some("u1"),
            "",
            &rate("0.5"),
        ),
        line(
            "2026-01-02T10:00:00.000Z",
            "a.s",
            Some("u1"),
            "",
            &rate("0.5"),
        ),
        line("2026-01-01T11:00:00.000Z", "a.s", Some("u2"), "", ""),
        line(
            "2026-01-02T11:00:00.000Z",
            "c.s",
            Some("u3"),
            "",
            &rate("0.25"),
        ),
        line(
            "2026-01-02T12:00:00.000Z",
            "pay",
            None,
            "",
            &call("error", "0.1"),
        ),
        line("2026-01-02T12:00:00.000Z", "pay", None, "", &call("ok", "")),
        line("2026-01-02T12:00:00.000Z", "pay", None, "", &rate("2")),
    ];
    let f: Funnel = serde_json::from_str(
        r#"{"name": "f", "description": "d", "window": "1h", "steps": [{"event": "a.s"}, {"event": "b.s"}]}"#,
    )
    .unwrap();
    let r = run(
        Options {
            active_events: Some(BTreeSet::from(["a.s".into(), "b.s".into(), "c.s".into()])),
            funnels: vec![f],
            ..Options::default()
        },
        &lines,
    );
    assert!(r.input.is_estimated());
    assert_eq!(r.input.sampled["0.5"], 3);
    assert_eq!(r.input.sampled["0.25"], 1);
    assert_eq!(r.input.sampled["0.1"], 1);
    assert_eq!(r.input.invalid_sample_rate, 1);
    assert_eq!(r.input.records, 8);
    let au = r.active_users.unwrap();
    let dau: Vec<u64> = au.series.iter().map(|d| d.dau).collect();
    assert_eq!(dau, [3, 6]);
    assert_eq!(au.series[1].wau, 7);
    let cohorts = r.retention.unwrap().cohorts;
    // Day 1 cohort: u1 (2) and u2 (1); u1 returns on day 2.
    assert_eq!(
        (cohorts[0].users, cohorts[0].on_day.clone()),
        (3, vec![3, 2])
    );
    let funnel = &r.funnels[0];
    let users: Vec<u64> = funnel.steps.iter().map(|s| s.users).collect();
    assert_eq!(users, [3, 2]);
    assert!((funnel.conversion - 2.0 / 3.0).abs() < 1e-12);
    let pay = &r.reliability.functions[0];
    assert_eq!((pay.calls, pay.errors), (11, 10));
    assert!((pay.error_rate - 10.0 / 11.0).abs() < 1e-12);
    assert_eq!(pay.by_day["2026-01-02"], (11, 10));
}

#[test]
fn unsampled_input_is_not_an_estimate() {
    let r = run(Options::default(), &[day(1, "u1")]);
    assert!(!r.input.is_estimated());
    assert_eq!(r.input.invalid_sample_rate, 0);
}

/// Problems are located by file and line: blank lines keep their numbers, each file
/// starts again at 1.
#[test]
fn input_problems_name_file_and_line() {
    let mut a = Analyzer::new(Options {
        known_events: Some(BTreeSet::from(["app.opened".to_owned()])),
        ..Options::default()
    });
    a.begin_source("a.jsonl");
    a.add_line(&day(1, "u1"));
    a.add_line(r#"{"format":1,"type":"event"}"#); // a.jsonl:2, fields missing
    a.begin_source("b.jsonl.gz");
    a.add_line("");
    a.add_line(&day(1, "u1").replace("2026-01-01T12", "2026-13-01T12")); // b:2, bad date
    a.add_line(&line(
        "2026-01-01T00:00:00.000Z",
        "app.opened",
        None,
        "",
        "",
    )); // b:3
    a.add_line(&line("2026-01-01T00:00:00.000Z", "x.y", Some("u"), "", "")); // b:4
    a.add_line(&line("2026-01-01T00:00:00.000Z", "x.y", Some("u"), "", "")); // b:5
    a.add_line(&day(1, "u1").replace(r#""type":"event""#, r#""type":"gossip""#)); // b:6
    a.read_error("b.jsonl.gz: reading stopped after line 6: unexpected end of file");
    let r = a.finish();
    assert_eq!(r.input.files, ["a.jsonl", "b.jsonl.gz"]);
    assert_eq!(r.input.malformed_lines, 3);
    let at: Vec<&str> = r
        .input
        .malformed_at
        .iter()
        .map(|s| s.split_once(": ").unwrap().0)
        .collect();
    assert_eq!(at, ["a.jsonl:2", "b.jsonl.gz:2", "b.jsonl.gz:6"]);
    assert!(
        r.input.malformed_at[0].contains("missing field"),
        "{:?}",
        r.input.malformed_at
    );
    assert!(
        r.input.malformed_at[1].contains("2026-13-01"),
        "{:?}",
        r.input.malformed_at
    );
    // Global numbering of non-blank lines is kept for the older field.
    assert_eq!(r.input.malformed_examples, [2, 3, 7]);
    assert_eq!(r.input.missing_user_at, ["b.jsonl.gz:3"]);
    assert_eq!(r.input.unknown_events["x.y"], 2);
    assert_eq!(r.input.unknown_events_at["x.y"], "b.jsonl.gz:4");
    assert_eq!(r.input.read_errors.len(), 1);
    // The good records before and after the problems are used.
    assert_eq!(r.input.records, 4);
}

/// A user repeats the first step 200 times (enough to compact their list several
/// times), in reverse order, then does b and c: the best start is the last `a`
/// (minute 199), converting in 2 minutes; a second user's `b` lies between two runs
/// of `a` and the step-1 events outside the window do not count.
#[test]
fn long_runs_of_a_step_give_the_same_result() {
    let at = |minute: u32, name: &str, user: &str| {
        line(
            &format!("2026-01-01T{:02}:{:02}:00.000Z", minute / 60, minute % 60),
            name,
            Some(user),
            r#""method":"upi""#,
            "",
        )
    };
    let mut lines: Vec<String> = (0..200).rev().map(|m| at(m, "a.s", "u1")).collect();
    lines.push(at(200, "b.s", "u1"));
    lines.push(at(201, "c.s", "u1"));
    // u2: a at minutes 0..100, b at 101, a again at 102..300, c at 302: from the last
    // `a` before b (minute 100), c comes 202 minutes later, outside the 1 h window;
    // a later `a` has no b after it: u2 reaches step 2 only.
    lines.extend((0..=100).map(|m| at(m, "a.s", "u2")));
    lines.push(at(101, "b.s", "u2"));
    lines.extend((102..=300).map(|m| at(m, "a.s", "u2")));
    lines.push(at(302, "c.s", "u2"));
    let r = run(
        Options {
            funnels: vec![funnel()],
            ..Options::default()
        },
        &lines,
    );
    let f = &r.funnels[0];
    let users: Vec<u64> = f.steps.iter().map(|s| s.users).collect();
    assert_eq!(users, [2, 2, 1]);
    assert_eq!(f.median_seconds_to_convert, Some(120.0));
}

/// Reading with parsing threads gives the same report, line numbers included, as
/// reading line by line: several blocks, blank and CRLF lines, broken lines, a last
/// line without a line feed, and the properties that funnels, breakdowns and `by`
/// read.
#[test]
fn parallel_reading_matches_line_by_line() {
    let mut text = String::new();
    for i in 0..9000u32 {
        let user = format!("u{}", i % 97);
        let t = format!(
            "2026-01-{:02}T{:02}:{:02}:00.000Z",
            1 + i % 20,
            i % 24,
            i % 60
        );
        let (name, props) = match i % 4 {
            0 => ("a.s", r#""source":"x""#),
            1 => ("b.s", r#""plan":"pro""#),
            2 => ("c.s", r#""method":"upi""#),
            _ => ("c.s", r#""method":"card""#),
        };
        text.push_str(&line(&t, name, Some(&user), props, ""));
        text.push_str(match i % 500 {
            7 => "\n{broken\n",
            8 => "\r\n\n",
            _ => "\n",
        });
    }
    text.push_str(&day(9, "last-line-without-feed"));
    assert!(text.len() > 2 << 20, "spans several blocks");
    let options = || Options {
        funnels: vec![funnel()],
        funnel_breakdown: Some("source".into()),
        by: Some("plan".into()),
        ..Options::default()
    };
    let mut one = Analyzer::new(options());
    one.begin_source("events.jsonl");
    for l in text.split('\n') {
        one.add_line(l.strip_suffix('\r').unwrap_or(l));
    }
    let mut parallel = Analyzer::new(options());
    parallel.begin_source("events.jsonl");
    let mut blocks = 0;
    let lines = parallel
        .read(std::io::Cursor::new(text.as_bytes()), 3, || blocks += 1)
        .unwrap();
    assert!(blocks >= 2, "{blocks}");
    assert_eq!(lines, text.split('\n').count() as u64);
    let (one, parallel) = (one.finish(), parallel.finish());
    assert_eq!(one.input.malformed_lines, 18);
    assert_eq!(one.input.records, 9001);
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&parallel).unwrap()
    );
}

/// A reader that fails after some bytes, as a truncated compressed file does.
struct FailsAfter(std::io::Cursor<Vec<u8>>, usize);

impl std::io::Read for FailsAfter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.position() as usize >= self.1 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "truncated",
            ));
        }
        let room = (self.1 - self.0.position() as usize).min(buf.len());
        self.0.read(&mut buf[..room])
    }
}

#[test]
fn a_read_error_keeps_the_whole_lines_before_it() {
    let text: String = (1..=9).map(|d| day(d, "u") + "\n").collect();
    let cut = text.len() - text.len() / 3 - 10; // in the middle of a line
    let whole_lines = text[..cut].matches('\n').count() as u64;
    let mut a = Analyzer::new(Options::default());
    let reader = std::io::BufReader::new(FailsAfter(std::io::Cursor::new(text.into_bytes()), cut));
    let (lines, e) = a.read(reader, 2, || {}).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
    assert_eq!(lines, whole_lines);
    let r = a.finish();
    assert_eq!(r.input.records, whole_lines);
    assert_eq!(r.input.malformed_lines, 0, "no partial line is read");
}

/// A device's anonymous id seen together with a user id is that user, before and
/// after signing in: one user active on days 1 and 2 (not two users), converting in a
/// funnel whose first step was done before signing in. Another device never signs
/// in and stays a user of its own.
#[test]
fn anonymous_records_count_as_the_user_who_signs_in_later() {
    let with = |ts: &str, name: &str, ids: &str| {
        format!(
            r#"{{"format":1,"type":"event","id":"019ab3c2-5d1e-7f3a-9c4b-2e8d7f6a5b4c","timestamp":"{ts}","name":"{name}","version":1,"properties":{{}},"context":{{"app_name":"a","app_version":"1.0","os":"linux","arch":"x86_64",{ids}}}}}"#
        )
    };
    let device = r#""anonymous_id":"device-1""#;
    let signed_in = r#""anonymous_id":"device-1","user_id":"ana""#;
    let lines = [
        with("2026-01-01T10:00:00.000Z", "a.s", device),
        with("2026-01-01T10:05:00.000Z", "b.s", signed_in),
        with("2026-01-02T10:00:00.000Z", "c.s", signed_in),
        with(
            "2026-01-02T11:00:00.000Z",
            "a.s",
            r#""anonymous_id":"device-2""#,
        ),
    ];
    let f: Funnel = serde_json::from_str(
        r#"{"name": "f", "description": "d", "window": "1d", "steps": [{"event": "a.s"}, {"event": "b.s"}]}"#,
    )
    .unwrap();
    let r = run(
        Options {
            funnels: vec![f],
            ..Options::default()
        },
        &lines,
    );
    let au = r.active_users.unwrap();
    let dau: Vec<u64> = au.series.iter().map(|d| d.dau).collect();
    assert_eq!(dau, [1, 2]);
    assert_eq!(au.series[1].wau, 2);
    let cohorts = r.retention.unwrap().cohorts;
    assert_eq!(
        (cohorts[0].users, cohorts[0].on_day.clone()),
        (1, vec![1, 1])
    );
    let users: Vec<u64> = r.funnels[0].steps.iter().map(|s| s.users).collect();
    assert_eq!(users, [2, 1]);
}

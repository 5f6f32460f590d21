//! Sampling by user: at rate 0.25 over 100,000 users the kept share is within
//! statistical bounds, every kept user has all their events, unsampled events are all
//! kept, and kept records carry their rate. The pipeline is process-global, so these
//! tests take a lock.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use telemetry_core::context::{self, ContextOverride};
use telemetry_core::{Config, MemorySink, Record, TelemetryEvent, Value, emit};

static PIPELINE: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    PIPELINE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A step of the funnel, sampled.
#[derive(TelemetryEvent)]
#[telemetry(name = "funnel.step", owner = "growth")]
struct FunnelStep {
    /// Step number.
    step: u64,
}

/// The app was opened, not sampled.
#[derive(TelemetryEvent)]
#[telemetry(name = "app.opened", owner = "growth")]
struct Opened;

const RATE: f64 = 0.25;
const STEPS: u64 = 3;

fn run(users: u64, config: Config) {
    let guard = telemetry_core::init(config.sample_rate("funnel.step", RATE).stats_interval(None));
    for user in 0..users {
        let _scope = context::scope(ContextOverride::user(format!("user-{user}")));
        emit!(Opened);
        for step in 0..STEPS {
            emit!(FunnelStep { step });
        }
        if user % 1000 == 999 {
            assert!(telemetry_core::flush(Duration::from_secs(10)));
        }
    }
    drop(guard);
}

/// Checks the records of `users` users; returns how many users were kept.
fn check(users: u64, records: &[Record]) -> u64 {
    let mut steps: HashMap<&str, u64> = HashMap::new();
    let mut opened = 0;
    for r in records {
        let user = r.context.user_id.as_deref().unwrap();
        match r.name.as_str() {
            "funnel.step" => {
                assert_eq!(r.sample_rate, Some(RATE));
                assert!(r.properties.get("step").and_then(Value::as_f64).is_some());
                *steps.entry(user).or_default() += 1;
            }
            "app.opened" => {
                assert_eq!(r.sample_rate, None, "unsampled events carry no rate");
                opened += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(opened, users, "unsampled events are all kept");
    assert!(
        steps.values().all(|&n| n == STEPS),
        "a kept user keeps all their events"
    );
    let kept = steps.len() as u64;
    let s = telemetry_core::stats();
    assert_eq!(s.dropped_sampled_out, (users - kept) * STEPS, "{s:?}");
    assert_eq!(s.exported + s.dropped(), s.emitted, "{s:?}");
    assert_eq!(s.dropped(), s.dropped_sampled_out, "{s:?}");
    kept
}

#[test]
fn a_quarter_of_100_000_users_is_kept_with_all_their_events() {
    let _l = lock();
    let users = 100_000;
    let memory = MemorySink::new();
    run(
        users,
        Config::new("sampling-test", "1").sink(memory.clone()),
    );
    let kept = check(users, &memory.records());
    // Binomial(100,000, 0.25): mean 25,000, standard deviation ~137; allow 5 of them.
    let sd = (users as f64 * RATE * (1.0 - RATE)).sqrt();
    let diff = (kept as f64 - users as f64 * RATE).abs();
    assert!(diff < 5.0 * sd, "kept {kept} of {users} users");
}

#[test]
fn jsonl_lines_carry_the_rate_too() {
    let _l = lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sampled.jsonl");
    run(2_000, Config::new("sampling-test", "1").jsonl(&path));
    let text = std::fs::read_to_string(&path).unwrap();
    let records: Vec<Record> = text
        .lines()
        .map(|l| Record::from_json(l).unwrap())
        .collect();
    let kept = check(2_000, &records);
    assert!((300..700).contains(&kept), "{kept}");
    assert!(text.contains(r#""sample_rate":0.25}"#));
}

//! Context and identity: per-thread scopes, futures wrapped with `with_context`
//! (1,000 interleaved tasks on a multi-thread runtime), `identify`, session timeout,
//! persisted anonymous id and locale. The pipeline is process-global: tests take a lock.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use telemetry_core::context::{self, ContextOverride, WithContextExt};
use telemetry_core::record::RecordKind;
use telemetry_core::{Config, MemorySink, Record, TelemetryEvent, Value, emit};

static PIPELINE: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    PIPELINE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A request step.
#[derive(TelemetryEvent)]
#[telemetry(name = "request.step", category = "server", owner = "platform")]
struct Step {
    /// The task's number.
    task: u64,
    /// The step within the task.
    step: u64,
}

const WAIT: Duration = Duration::from_secs(10);

fn config(memory: &MemorySink) -> Config {
    Config::new("context-test", "1.0.0")
        .sink(memory.clone())
        .stats_interval(None)
        .anonymous_id("device-1")
}

fn prop(r: &Record, name: &str) -> u64 {
    r.properties.get(name).and_then(Value::as_f64).unwrap() as u64
}

fn events(memory: &MemorySink) -> Vec<Record> {
    memory
        .records()
        .into_iter()
        .filter(|r| r.kind == RecordKind::Event)
        .collect()
}

#[test]
fn thread_scopes_nest_and_restore() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(config(&memory));
    emit!(Step { task: 0, step: 0 });
    {
        let _outer = context::scope(ContextOverride {
            user_id: Some("user-a".into()),
            session_id: Some("session-a".into()),
            ..ContextOverride::default()
        });
        emit!(Step { task: 0, step: 1 });
        {
            let _inner = context::scope(ContextOverride::user("user-b"));
            emit!(Step { task: 0, step: 2 });
        }
        emit!(Step { task: 0, step: 3 });
    }
    emit!(Step { task: 0, step: 4 });
    drop(guard);
    let r = events(&memory);
    let ids: Vec<_> = r
        .iter()
        .map(|r| (r.context.user_id.as_deref(), r.context.session_id.clone()))
        .collect();
    assert_eq!(ids[0].0, None);
    assert_eq!(ids[1], (Some("user-a"), Some("session-a".into())));
    assert_eq!(
        ids[2],
        (Some("user-b"), Some("session-a".into())),
        "inherits"
    );
    assert_eq!(ids[3].0, Some("user-a"));
    assert_eq!(ids[4].0, None);
    assert_ne!(ids[4].1.as_deref(), Some("session-a"));
    assert!(
        r.iter()
            .all(|r| r.context.anonymous_id.as_deref() == Some("device-1"))
    );
}

#[test]
fn interleaved_async_tasks_keep_their_own_user_id() {
    let _l = lock();
    let dir = tempfile::tempdir().unwrap();
    // Two pipelines' shapes: records (memory) and direct JSON lines (JSONL).
    for jsonl in [false, true] {
        let memory = MemorySink::new();
        let path = dir.path().join(format!("tasks-{jsonl}.jsonl"));
        let config = if jsonl {
            Config::new("context-test", "1.0.0")
                .jsonl(&path)
                .stats_interval(None)
        } else {
            config(&memory)
        };
        let guard = telemetry_core::init(config.queue_capacity(1 << 16));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let tasks: Vec<_> = (0..1000u64)
                .map(|task| {
                    tokio::spawn(
                        async move {
                            for step in 0..5 {
                                emit!(Step { task, step });
                                // Interleave: give the thread to other tasks.
                                tokio::task::yield_now().await;
                                if step == 2 {
                                    tokio::time::sleep(Duration::from_millis(1)).await;
                                }
                            }
                        }
                        .with_context(ContextOverride::user(format!("user-{task}"))),
                    )
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert!(telemetry_core::flush(WAIT));
        drop(guard);
        let records = if jsonl {
            std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .map(|l| Record::from_json(l).unwrap())
                .collect()
        } else {
            events(&memory)
        };
        assert_eq!(records.len(), 5000, "every event written");
        let mut per_task: HashMap<u64, u64> = HashMap::new();
        for r in &records {
            let task = prop(r, "task");
            assert_eq!(
                r.context.user_id.as_deref(),
                Some(format!("user-{task}").as_str()),
                "an event of task {task} carries another task's user id"
            );
            *per_task.entry(task).or_default() += 1;
        }
        assert_eq!(per_task.len(), 1000);
        assert!(per_task.values().all(|&n| n == 5));
    }
}

#[test]
fn identify_links_the_anonymous_id_to_the_user() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(config(&memory));
    emit!(Step { task: 1, step: 0 });
    telemetry_core::identify("user-42");
    emit!(Step { task: 1, step: 1 });
    drop(guard);
    let r = memory.records();
    let kinds: Vec<_> = r.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [RecordKind::Event, RecordKind::Identify, RecordKind::Event]
    );
    assert_eq!(r[0].context.user_id, None);
    assert_eq!(r[1].name, telemetry_core::IDENTIFY_RECORD_NAME);
    assert_eq!(r[1].context.user_id.as_deref(), Some("user-42"));
    assert_eq!(r[1].context.anonymous_id.as_deref(), Some("device-1"));
    assert_eq!(r[2].context.user_id.as_deref(), Some("user-42"));
    // Identify records are not events: the accounting is unchanged.
    let s = telemetry_core::stats();
    assert_eq!((s.emitted, s.exported), (2, 2));
}

#[test]
fn identify_follows_consent() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(config(&memory).consent(telemetry_core::Consent::Unknown));
    telemetry_core::identify("user-7");
    emit!(Step { task: 4, step: 0 });
    assert!(telemetry_core::flush(WAIT));
    assert!(
        memory.records().is_empty(),
        "nothing written while consent is unknown"
    );
    telemetry_core::set_consent(telemetry_core::Consent::Granted);
    drop(guard);
    let r = memory.records();
    assert_eq!(r.len(), 2);
    assert!(
        r.iter()
            .all(|r| r.context.user_id.as_deref() == Some("user-7"))
    );
    assert!(r.iter().any(|r| r.kind == RecordKind::Identify));

    let memory = MemorySink::new();
    let guard = telemetry_core::init(config(&memory).consent(telemetry_core::Consent::Denied));
    telemetry_core::identify("user-8");
    drop(guard);
    assert!(memory.records().is_empty());
}

#[test]
fn a_new_session_starts_after_inactivity() {
    let _l = lock();
    let memory = MemorySink::new();
    let guard =
        telemetry_core::init(config(&memory).session_timeout(Some(Duration::from_millis(150))));
    emit!(Step { task: 2, step: 0 });
    emit!(Step { task: 2, step: 1 });
    std::thread::sleep(Duration::from_millis(300));
    emit!(Step { task: 2, step: 2 });
    drop(guard);
    let s: Vec<_> = events(&memory)
        .iter()
        .map(|r| r.context.session_id.clone().unwrap())
        .collect();
    assert_eq!(s[0], s[1]);
    assert_ne!(s[1], s[2]);
}

#[test]
fn the_anonymous_id_is_persisted_and_reused() {
    let _l = lock();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state/anonymous-id");
    let run = || {
        let memory = MemorySink::new();
        let guard = telemetry_core::init(
            Config::new("context-test", "1")
                .sink(memory.clone())
                .stats_interval(None)
                .persist_anonymous_id(&file)
                .locale("de-CH"),
        );
        emit!(Step { task: 3, step: 0 });
        drop(guard);
        let r = memory.records();
        assert_eq!(r[0].context.locale.as_deref(), Some("de-CH"));
        r[0].context.anonymous_id.clone().unwrap()
    };
    let first = run();
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), first);
    assert_eq!(run(), first);
}

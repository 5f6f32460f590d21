//! The PostgreSQL sink against a real server (a throw-away cluster per test, see
//! `telemetry_test_support::pg`): the documented columns, personal data handled
//! before it leaves the process, a connection killed in the middle of a batch, an
//! unreachable server, and a table created once and reused. The pipeline is
//! process-global, so the tests that start it take a lock.

use std::net::TcpListener;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use postgres::{Client, NoTls};
use sha2::Sha256;
use telemetry_core::export::Postgres;
use telemetry_core::record::{RECORD_FORMAT, RecordKind, Timestamp};
use telemetry_core::{
    Config, MemorySink, Properties, REDACTED, Record, Sink, TelemetryEvent, Value, emit,
    instrument_event,
};
use telemetry_test_support::pg;

static PIPELINE: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    PIPELINE.lock().unwrap_or_else(|e| e.into_inner())
}

const SECRET: &[u8] = b"pg-test-secret";

/// A customer signed up.
#[derive(TelemetryEvent)]
#[telemetry(name = "account.signed_up", owner = "growth", version = 3)]
struct SignedUp<'a> {
    /// Plan chosen.
    plan: &'a str,
    /// Seats bought.
    seats: u32,
    /// Contact address.
    #[telemetry(pii = "hash")]
    email: &'a str,
    /// Postal address.
    #[telemetry(pii = "redact")]
    address: &'a str,
    /// Phone number.
    #[telemetry(pii = "drop")]
    phone: &'a str,
}

/// Charges a card.
#[instrument_event(name = "payment.charged", fields(amount_cents))]
fn charge(amount_cents: u64) -> Result<(), std::num::ParseIntError> {
    "not a number".parse::<u32>().map(|_| ())?;
    let _ = amount_cents;
    Ok(())
}

/// A numbered event, for volume.
#[derive(TelemetryEvent)]
#[telemetry(name = "load.tick", owner = "tests")]
struct Tick {
    /// Sequence number.
    seq: u64,
}

fn client(server: &pg::PgServer) -> Client {
    Client::connect(&server.url(), NoTls).expect("the test connects")
}

fn count(client: &mut Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).expect(sql).get(0)
}

fn hashed(value: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET).unwrap();
    mac.update(value.as_bytes());
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn events_land_in_the_table_with_the_documented_columns() {
    let Some(server) = pg::start_or_skip("events_land_in_the_table_with_the_documented_columns")
    else {
        return;
    };
    let _lock = lock();
    let memory = MemorySink::new();
    let guard = telemetry_core::init(
        Config::new("shop", "2.1.0")
            .pii_secret(SECRET)
            .user_id("user-42")
            .session_id("session-7")
            .locale("en-GB")
            .sink(Postgres::new(server.url()).table("app_events"))
            .sink(memory.clone()),
    );
    emit!(SignedUp {
        plan: "team",
        seats: 5,
        email: "ana@example.com",
        address: "1 Main St",
        phone: "+44 20 7946 0000",
    });
    assert!(charge(1250).is_err());
    assert!(guard.shutdown(Duration::from_secs(30)));
    let stats = telemetry_core::stats();
    assert_eq!((stats.emitted, stats.exported, stats.failed), (2, 2, 0));

    let records = memory.records();
    let events: Vec<&Record> = records
        .iter()
        .filter(|r| r.kind == RecordKind::Event)
        .collect();
    assert_eq!(events.len(), 2);
    let mut db = client(&server);
    let rows = db
        .query(
            r#"SELECT id, name, version, "timestamp", user_id, anonymous_id, session_id,
                      app_name, app_version, os, arch, locale, properties, call, sample_rate
               FROM app_events ORDER BY id"#,
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 2);
    for (row, record) in rows.iter().zip(&events) {
        let c = &record.context;
        assert_eq!(row.get::<_, uuid::Uuid>("id"), record.id);
        assert_eq!(row.get::<_, String>("name"), record.name);
        assert_eq!(row.get::<_, i32>("version") as u32, record.version);
        assert_eq!(
            row.get::<_, std::time::SystemTime>("timestamp"),
            record.timestamp.system_time()
        );
        assert_eq!(
            row.get::<_, Option<String>>("user_id").as_deref(),
            Some("user-42")
        );
        assert_eq!(row.get::<_, Option<String>>("anonymous_id"), c.anonymous_id);
        assert_eq!(
            row.get::<_, Option<String>>("session_id").as_deref(),
            Some("session-7")
        );
        assert_eq!(row.get::<_, String>("app_name"), "shop");
        assert_eq!(row.get::<_, String>("app_version"), "2.1.0");
        assert_eq!(row.get::<_, String>("os"), std::env::consts::OS);
        assert_eq!(row.get::<_, String>("arch"), std::env::consts::ARCH);
        assert_eq!(
            row.get::<_, Option<String>>("locale").as_deref(),
            Some("en-GB")
        );
        assert_eq!(row.get::<_, Option<f64>>("sample_rate"), None);
    }

    let signed_up = &rows[0];
    assert_eq!(signed_up.get::<_, String>("name"), "account.signed_up");
    assert_eq!(signed_up.get::<_, i32>("version"), 3);
    let properties: serde_json::Value = signed_up.get("properties");
    assert_eq!(
        properties,
        serde_json::json!({
            "plan": "team",
            "seats": 5,
            "email": hashed("ana@example.com"),
            "address": REDACTED,
        }),
        "hashed, redacted and dropped before leaving the process"
    );
    assert_eq!(signed_up.get::<_, Option<serde_json::Value>>("call"), None);

    let charged = &rows[1];
    assert_eq!(charged.get::<_, String>("name"), "payment.charged");
    let call: serde_json::Value = charged.get("call");
    assert_eq!(call["function"], "export_postgres::charge");
    assert_eq!(call["outcome"], "error");
    assert_eq!(call["error_kind"], "ParseIntError");
    let recorded = events[1].call.as_ref().unwrap().duration_ms;
    assert_eq!(call["duration_ms"].as_f64(), Some(recorded));
    assert_eq!(
        charged.get::<_, serde_json::Value>("properties"),
        serde_json::json!({"amount_cents": 1250})
    );
}

fn record(seq: u64, kind: RecordKind) -> Record {
    let mut record = Record::from_json(&format!(
        r#"{{"format":{RECORD_FORMAT},"type":"event","id":"{}","timestamp":"2026-11-25T10:00:00.000Z","name":"load.tick","version":1,"properties":{{"seq":{seq}}},"context":{{"app_name":"a","app_version":"1","os":"linux","arch":"x86_64"}}}}"#,
        uuid::Uuid::now_v7()
    ))
    .unwrap();
    record.kind = kind;
    record
}

#[test]
fn the_table_is_created_if_absent_reused_if_present_and_resending_is_idempotent() {
    let Some(server) = pg::start_or_skip("the_table_is_created_if_absent_reused_if_present") else {
        return;
    };
    let mut db = client(&server);
    db.batch_execute("CREATE SCHEMA analytics").unwrap();
    let table = "analytics.events";
    let mut first = Postgres::new(server.url())
        .table(table)
        .connected()
        .unwrap();
    let columns: Vec<(String, String)> = db
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = 'analytics' AND table_name = 'events' ORDER BY ordinal_position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expected = [
        ("id", "uuid"),
        ("name", "text"),
        ("version", "integer"),
        ("timestamp", "timestamp with time zone"),
        ("user_id", "text"),
        ("anonymous_id", "text"),
        ("session_id", "text"),
        ("app_name", "text"),
        ("app_version", "text"),
        ("os", "text"),
        ("arch", "text"),
        ("locale", "text"),
        ("properties", "jsonb"),
        ("call", "jsonb"),
        ("sample_rate", "double precision"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    assert_eq!(columns, expected);
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'analytics' AND tablename = 'events'"
        ),
        3,
        "primary key, timestamp, (name, timestamp)"
    );

    // Stats and identify records are not events: skipped, and still accounted for.
    let batch: Vec<Record> = (0..10)
        .map(|i| record(i, RecordKind::Event))
        .chain([
            record(99, RecordKind::Stats),
            record(98, RecordKind::Identify),
        ])
        .collect();
    let delivery = first.send(&batch);
    assert_eq!((delivery.exported, delivery.failed), (12, 0));
    // Sending the same batch again (what a retry does) adds nothing.
    first.write(&batch).unwrap();
    assert_eq!(count(&mut db, "SELECT count(*) FROM analytics.events"), 10);

    // A second sink (another process, a restart) finds the table and adds to it.
    drop(first);
    let mut second = Postgres::new(server.url()).table(table);
    second.write(&[record(10, RecordKind::Event)]).unwrap();
    assert_eq!(count(&mut db, "SELECT count(*) FROM analytics.events"), 11);
    assert_eq!(
        count(
            &mut db,
            "SELECT count(DISTINCT (properties->>'seq')::int) FROM analytics.events"
        ),
        11
    );

    // A table of another shape is a clear error, not retried (it would fail again).
    db.batch_execute("CREATE TABLE analytics.other (id int PRIMARY KEY)")
        .unwrap();
    let mut wrong = Postgres::new(server.url())
        .table("analytics.other")
        .retries(5)
        .backoff(Duration::from_secs(5));
    let delivery = wrong.send(&[record(11, RecordKind::Event)]);
    assert_eq!(
        (delivery.exported, delivery.failed, delivery.retried),
        (0, 1, 0)
    );
    let msg = delivery.error.unwrap().to_string();
    assert!(
        msg.contains(r#""analytics"."other""#)
            && msg.contains("does not have the expected columns"),
        "{msg}"
    );
}

#[test]
fn a_connection_killed_mid_batch_is_resumed_without_loss_or_duplicates() {
    let Some(server) = pg::start_or_skip("a_connection_killed_mid_batch_is_resumed") else {
        return;
    };
    let mut db = client(&server);
    // Slow every insert down, so that the killer finds a batch being written.
    db.batch_execute(
        "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN PERFORM pg_sleep(0.05); RETURN NULL; END $$;",
    )
    .unwrap();
    Postgres::connect(server.url()).unwrap();
    db.batch_execute(
        "CREATE TRIGGER slow BEFORE INSERT ON telemetry_events
         FOR EACH STATEMENT EXECUTE FUNCTION slow()",
    )
    .unwrap();

    let _lock = lock();
    let url = format!("{}?application_name=victim", server.url());
    let guard = telemetry_core::init(
        Config::new("load", "1")
            .pii_secret(SECRET)
            .queue_capacity(50_000)
            .sink(
                Postgres::new(url)
                    .backoff(Duration::from_millis(20))
                    .retries(8),
            ),
    );
    const EVENTS: u64 = 6_000;
    for seq in 0..EVENTS {
        emit!(Tick { seq });
    }
    // Terminate the sink's connection three times while an INSERT runs on it (three
    // different connections: a terminated backend may linger in pg_stat_activity).
    let mut killed: Vec<i32> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while killed.len() < 3 && Instant::now() < deadline {
        let pids: Vec<i32> = db
            .query(
                // Materialized first, so that only these backends are signalled
                // (the planner may otherwise call the function before the filters).
                "WITH victims AS MATERIALIZED (
                     SELECT pid FROM pg_stat_activity
                     WHERE application_name = 'victim' AND state = 'active'
                       AND query LIKE 'INSERT INTO%' AND NOT (pid = ANY($1))
                 )
                 SELECT pid FROM victims WHERE pg_terminate_backend(pid)",
                &[&killed],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        if pids.is_empty() {
            std::thread::sleep(Duration::from_millis(5));
        }
        killed.extend(pids);
    }
    let kills = killed.len();
    assert_eq!(kills, 3, "no INSERT in flight to kill within a minute");
    assert!(guard.shutdown(Duration::from_secs(120)));

    let stats = telemetry_core::stats();
    assert_eq!(stats.emitted, EVENTS);
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert_eq!(stats.exported + stats.dropped(), stats.emitted, "{stats:?}");
    assert_eq!(stats.dropped(), 0, "{stats:?}");
    assert!(stats.retried >= 3, "{stats:?}");
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM telemetry_events"),
        EVENTS as i64
    );
    assert_eq!(
        count(&mut db, "SELECT count(DISTINCT id) FROM telemetry_events"),
        EVENTS as i64
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT count(DISTINCT (properties->>'seq')::bigint) FROM telemetry_events"
        ),
        EVENTS as i64,
        "every event exactly once"
    );
}

#[test]
fn an_unreachable_server_is_a_clear_error_and_counts_as_failed() {
    // A port nobody listens on: bound, then released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/analytics");
    let err = Postgres::connect(url.clone()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("`postgres://app:***@127.0.0.1:{port}/analytics`")),
        "{msg}"
    );
    assert!(msg.contains("check that the server runs"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");

    let mut sink = Postgres::new(url.clone())
        .retries(2)
        .backoff(Duration::from_millis(1));
    let delivery = sink.send(&[record(1, RecordKind::Event), record(2, RecordKind::Event)]);
    assert_eq!(
        (delivery.exported, delivery.failed, delivery.retried),
        (0, 2, 2)
    );
    assert!(!format!("{:?}", delivery.error).contains("hunter2"));

    let _lock = lock();
    let guard = telemetry_core::init(
        Config::new("app", "1").pii_secret(SECRET).sink(
            Postgres::new(url)
                .retries(1)
                .backoff(Duration::from_millis(1)),
        ),
    );
    for seq in 0..3 {
        emit!(Tick { seq });
    }
    assert!(guard.shutdown(Duration::from_secs(30)));
    let stats = telemetry_core::stats();
    assert_eq!(
        (stats.emitted, stats.exported, stats.failed),
        (3, 0, 3),
        "{stats:?}"
    );
    assert!(stats.retried >= 1, "{stats:?}");
}

#[test]
fn records_round_trip_through_the_row_columns() {
    // The columns hold everything the report needs from a record built by hand,
    // including a sampled event and a string with NUL (stored as U+FFFD).
    let Some(server) = pg::start_or_skip("records_round_trip_through_the_row_columns") else {
        return;
    };
    let mut record = record(7, RecordKind::Event);
    record.sample_rate = Some(0.25);
    record.properties = Properties(vec![("note".into(), Value::String("a\0b".into()))]);
    record.context.user_id = Some("u\0".into());
    record.timestamp = Timestamp::from_unix_millis(1_764_064_800_123);
    let mut sink = Postgres::new(server.url());
    sink.write(std::slice::from_ref(&record)).unwrap();
    let mut db = client(&server);
    let row = db
        .query_one(
            "SELECT sample_rate, properties->>'note', user_id,
                    (extract(epoch FROM \"timestamp\") * 1000)::bigint FROM telemetry_events",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, Option<f64>>(0), Some(0.25));
    assert_eq!(row.get::<_, String>(1), "a\u{fffd}b");
    assert_eq!(row.get::<_, String>(2), "u\u{fffd}");
    assert_eq!(row.get::<_, i64>(3), 1_764_064_800_123);
}

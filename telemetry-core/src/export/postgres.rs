//! The PostgreSQL sink: one row per event in a table it creates.

use std::fmt;
use std::io;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use postgres::error::SqlState;
use postgres::{Client, NoTls, Statement};

use crate::pg::{describe, quote_table, redact};
use crate::record::{Record, RecordKind};
use crate::{Delivery, Sink};

/// The table [`Postgres`] writes to unless told otherwise ([`Postgres::table`]).
pub const POSTGRES_DEFAULT_TABLE: &str = crate::pg::DEFAULT_TABLE;

/// The environment variable [`Postgres::from_env`] reads by default.
pub const POSTGRES_URL_ENV: &str = "TELEMETRY_POSTGRES_URL";

/// Connection attempts after the first one for a batch that failed on a lost
/// connection, unless set with [`Postgres::retries`].
pub const POSTGRES_DEFAULT_RETRIES: u32 = 5;

/// Wait before the first retry, doubled after each one up to [`POSTGRES_MAX_BACKOFF`].
pub const POSTGRES_DEFAULT_BACKOFF: Duration = Duration::from_millis(100);

/// Longest wait between two attempts.
pub const POSTGRES_MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How long connecting may take when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Writes events into a PostgreSQL table, one row per event.
///
/// Runs on the pipeline's writer thread with the synchronous [`postgres`] client.
/// Connects on the first batch (or at once with [`Postgres::connect`]) and creates
/// the table and its indexes when they are absent:
///
/// ```sql
/// CREATE TABLE IF NOT EXISTS telemetry_events (
///     id           uuid PRIMARY KEY,           -- the record's UUID v7: retries never duplicate
///     name         text NOT NULL,              -- event name from the catalog
///     version      integer NOT NULL,           -- event schema version
///     "timestamp"  timestamptz NOT NULL,       -- when the event was emitted (millisecond precision)
///     user_id      text,                       -- context.user_id
///     anonymous_id text,                       -- context.anonymous_id
///     session_id   text,                       -- context.session_id
///     app_name     text NOT NULL,
///     app_version  text NOT NULL,
///     os           text NOT NULL,
///     arch         text NOT NULL,
///     locale       text,
///     properties   jsonb NOT NULL,             -- after personal data handling (hashed, redacted, dropped)
///     call         jsonb,                      -- instrumented calls: {function, duration_ms, outcome, error_kind}
///     sample_rate  double precision            -- below 1 when sampled: the row stands for 1 / sample_rate events
/// );
/// CREATE INDEX IF NOT EXISTS telemetry_events_timestamp_idx ON telemetry_events ("timestamp");
/// CREATE INDEX IF NOT EXISTS telemetry_events_name_timestamp_idx ON telemetry_events (name, "timestamp");
/// ```
///
/// The columns are the fields of the [record format](crate::Record); absent optional
/// fields are `NULL`. Only `event` records are stored: the pipeline's `stats` and
/// `identify` records are skipped (read them from [`crate::stats`] or a JSONL sink).
/// `telemetry report --postgres URL` computes its metrics from this table.
///
/// Each batch is one `INSERT ... SELECT FROM unnest(...) ON CONFLICT (id) DO NOTHING`
/// statement: atomic, and idempotent when sent again. When the connection is lost
/// (server restart, network cut, terminated backend), the sink reconnects and sends
/// the batch again, waiting [`POSTGRES_DEFAULT_BACKOFF`] before the first retry and
/// twice as long before each next one (at most [`POSTGRES_MAX_BACKOFF`]),
/// [`POSTGRES_DEFAULT_RETRIES`] times; only then are the batch's events counted as
/// failed. Errors that would happen again (permissions, a table of another shape, a
/// wrong password) are not retried.
///
/// **TLS**: the connection is unencrypted (`NoTls`), for a database on the same host
/// or a private network. For TLS, write the events with your own [`Sink`] around a
/// `postgres::Client` connected with `postgres-native-tls` or `postgres-openssl`.
///
/// The password never appears in [`Debug`](fmt::Debug), [`Sink::name`] or error
/// messages: it is shown as `***`.
///
/// ```no_run
/// use telemetry_core::{Config, export::Postgres};
///
/// let sink = Postgres::new("postgres://telemetry:secret@127.0.0.1:5432/analytics")
///     .table("app_events");
/// let _guard = telemetry_core::init(Config::new("food-delivery", "1.4.0").sink(sink));
/// ```
pub struct Postgres {
    url: String,
    table: String,
    retries: u32,
    backoff: Duration,
    conn: Option<Connection>,
}

/// An open connection with the batch statement prepared on it.
struct Connection {
    client: Client,
    insert: Statement,
}

impl Postgres {
    /// A sink for the database at `url` (`postgres://user:password@host:port/db`, or
    /// `host=... user=...` pairs), writing to [`POSTGRES_DEFAULT_TABLE`]. Connects on the
    /// first batch; see [`connect`](Postgres::connect) to connect now.
    pub fn new(url: impl Into<String>) -> Postgres {
        Postgres {
            url: url.into(),
            table: POSTGRES_DEFAULT_TABLE.to_owned(),
            retries: POSTGRES_DEFAULT_RETRIES,
            backoff: POSTGRES_DEFAULT_BACKOFF,
            conn: None,
        }
    }

    /// Connects to `url` now and creates the table if absent; the error names the
    /// database (without its password) and what to check.
    pub fn connect(url: impl Into<String>) -> io::Result<Postgres> {
        Postgres::new(url).connected()
    }

    /// A sink for the URL in the environment variable `var` (e.g. [`POSTGRES_URL_ENV`]);
    /// an error naming the variable when it is unset or not UTF-8.
    pub fn from_env(var: &str) -> io::Result<Postgres> {
        let url = std::env::var(var).map_err(|e| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "the environment variable {var} ({e}) should hold the PostgreSQL URL, e.g. postgres://user:password@host:5432/database"
                ),
            )
        })?;
        Ok(Postgres::new(url))
    }

    /// Writes to `table` (`name` or `schema.name`; letters, digits and `_`) instead
    /// of [`POSTGRES_DEFAULT_TABLE`]. An invalid name fails every batch with an error
    /// saying so.
    pub fn table(mut self, table: impl Into<String>) -> Postgres {
        self.table = table.into();
        self.conn = None;
        self
    }

    /// How many times a batch is sent again after a lost connection (default
    /// [`POSTGRES_DEFAULT_RETRIES`]; 0: never).
    pub fn retries(mut self, retries: u32) -> Postgres {
        self.retries = retries;
        self
    }

    /// Wait before the first retry (default [`POSTGRES_DEFAULT_BACKOFF`]), doubled after
    /// each retry up to [`POSTGRES_MAX_BACKOFF`].
    pub fn backoff(mut self, first: Duration) -> Postgres {
        self.backoff = first;
        self
    }

    /// Connects now (if not connected yet) and creates the table if absent.
    pub fn connected(mut self) -> io::Result<Postgres> {
        self.connection()?;
        Ok(self)
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }

    /// The table written to.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// The open connection, connecting and creating the table first if needed.
    fn connection(&mut self) -> io::Result<&mut Connection> {
        let conn = match self.conn.take() {
            Some(conn) if !conn.client.is_closed() => conn,
            _ => self.open()?,
        };
        Ok(self.conn.insert(conn))
    }

    fn open(&self) -> io::Result<Connection> {
        let table = quote_table(&self.table).map_err(|why| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "invalid PostgreSQL table name `{}`: {why}; use letters, digits and `_`, optionally `schema.table`",
                    self.table
                ),
            )
        })?;
        let mut config = postgres::Config::from_str(&self.url).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "invalid PostgreSQL URL `{}`: {e}; write it as postgres://user:password@host:port/database",
                    self.redacted_url()
                ),
            )
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("telemetry");
        }
        let mut client = config.connect(NoTls).map_err(|e| {
            io::Error::new(
                error_kind(&e),
                format!(
                    "cannot connect to PostgreSQL at `{}`: {}; check that the server runs and accepts TCP connections there, and the user, password and database in the URL",
                    self.redacted_url(),
                    describe(&e)
                ),
            )
        })?;
        let (create_table, create_indexes) = create_sql(&table, &index_prefix(&self.table));
        client.batch_execute(&create_table).map_err(|e| {
            io::Error::new(
                error_kind(&e),
                format!(
                    "cannot create the table {table} in PostgreSQL at `{}`: {}; grant the user CREATE on the schema, or create the table with the schema documented in telemetry_core::export::Postgres",
                    self.redacted_url(),
                    describe(&e)
                ),
            )
        })?;
        // Preparing the insert checks an existing table's columns.
        let insert = client.prepare(&insert_sql(&table)).map_err(|e| {
            io::Error::new(
                error_kind(&e),
                format!(
                    "the table {table} in PostgreSQL at `{}` does not have the expected columns: {}; drop or rename it, or choose another with Postgres::table",
                    self.redacted_url(),
                    describe(&e)
                ),
            )
        })?;
        client.batch_execute(&create_indexes).map_err(|e| {
            io::Error::new(
                error_kind(&e),
                format!(
                    "cannot create the indexes of the table {table} in PostgreSQL at `{}`: {}; grant the user the table's ownership, or create them as documented in telemetry_core::export::Postgres",
                    self.redacted_url(),
                    describe(&e)
                ),
            )
        })?;
        Ok(Connection { client, insert })
    }

    /// Inserts the batch's events, reconnecting and resending after a lost
    /// connection; the retries made and the outcome.
    fn insert(&mut self, rows: &Rows) -> (u64, io::Result<()>) {
        let mut retried = 0;
        let mut wait = self.backoff;
        loop {
            let result = self.try_insert(rows);
            let error = match result {
                Ok(()) => return (retried, Ok(())),
                Err(e) => e,
            };
            if !error.retryable || retried >= u64::from(self.retries) {
                return (retried, Err(error.error));
            }
            self.conn = None;
            std::thread::sleep(wait);
            wait = (wait * 2).min(POSTGRES_MAX_BACKOFF);
            retried += 1;
        }
    }

    fn try_insert(&mut self, rows: &Rows) -> Result<(), InsertError> {
        let url = self.redacted_url();
        let table = self.table.clone();
        let conn = self.connection().map_err(|error| InsertError {
            // Only an unreachable server is worth waiting for; a bad URL, table name,
            // password or table shape stays bad.
            retryable: error.kind() == io::ErrorKind::ConnectionAborted,
            error,
        })?;
        let params: [&(dyn postgres::types::ToSql + Sync); 15] = [
            &rows.id,
            &rows.name,
            &rows.version,
            &rows.timestamp,
            &rows.user_id,
            &rows.anonymous_id,
            &rows.session_id,
            &rows.app_name,
            &rows.app_version,
            &rows.os,
            &rows.arch,
            &rows.locale,
            &rows.properties,
            &rows.call,
            &rows.sample_rate,
        ];
        match conn.client.execute(&conn.insert, &params) {
            Ok(_) => Ok(()),
            Err(e) => Err(InsertError {
                retryable: connection_lost(&e),
                error: io::Error::new(
                    error_kind(&e),
                    format!(
                        "cannot insert {} events into {table} in PostgreSQL at `{url}`: {}",
                        rows.id.len(),
                        describe(&e)
                    ),
                ),
            }),
        }
    }

    /// Writes the batch's events; the delivery of all `records`.
    fn deliver(&mut self, records: &[Record]) -> Delivery {
        let rows = Rows::new(records);
        if rows.id.is_empty() {
            return Delivery::exported(records.len());
        }
        let (retried, result) = self.insert(&rows);
        let mut delivery = match result {
            // Records that are not events are skipped, and count as delivered.
            Ok(()) => Delivery::exported(records.len()),
            Err(e) => {
                let mut d = Delivery::failed(rows.id.len(), e);
                d.merge(Delivery::exported(records.len() - rows.id.len()));
                d
            }
        };
        delivery.retried = retried;
        delivery
    }
}

impl fmt::Debug for Postgres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Postgres")
            .field("url", &self.redacted_url())
            .field("table", &self.table)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .field("connected", &self.conn.is_some())
            .finish()
    }
}

impl Sink for Postgres {
    fn name(&self) -> String {
        format!("postgres:{} at {}", self.table, self.redacted_url())
    }

    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        self.deliver(records).into_result()
    }

    fn send(&mut self, records: &[Record]) -> Delivery {
        self.deliver(records)
    }
}

struct InsertError {
    retryable: bool,
    error: io::Error,
}

/// A batch's events as one array per column (the parameters of `unnest`).
#[derive(Default)]
struct Rows {
    id: Vec<uuid::Uuid>,
    name: Vec<String>,
    version: Vec<i32>,
    timestamp: Vec<SystemTime>,
    user_id: Vec<Option<String>>,
    anonymous_id: Vec<Option<String>>,
    session_id: Vec<Option<String>>,
    app_name: Vec<String>,
    app_version: Vec<String>,
    os: Vec<String>,
    arch: Vec<String>,
    locale: Vec<Option<String>>,
    properties: Vec<serde_json::Value>,
    call: Vec<Option<serde_json::Value>>,
    sample_rate: Vec<Option<f64>>,
}

impl Rows {
    fn new(records: &[Record]) -> Rows {
        let mut rows = Rows::default();
        for r in records.iter().filter(|r| r.kind == RecordKind::Event) {
            let c = &r.context;
            rows.id.push(r.id);
            rows.name.push(text(&r.name));
            rows.version
                .push(i32::try_from(r.version).unwrap_or(i32::MAX));
            rows.timestamp.push(r.timestamp.system_time());
            rows.user_id.push(c.user_id.as_deref().map(text));
            rows.anonymous_id.push(c.anonymous_id.as_deref().map(text));
            rows.session_id.push(c.session_id.as_deref().map(text));
            rows.app_name.push(text(&c.app_name));
            rows.app_version.push(text(&c.app_version));
            rows.os.push(text(&c.os));
            rows.arch.push(text(&c.arch));
            rows.locale.push(c.locale.as_deref().map(text));
            rows.properties.push(json(&r.properties));
            rows.call.push(r.call.as_ref().map(json));
            rows.sample_rate.push(r.sample_rate);
        }
        rows
    }
}

/// PostgreSQL text cannot hold NUL: it becomes U+FFFD, so one odd string cannot fail
/// a whole batch.
fn text(s: &str) -> String {
    s.replace('\0', "\u{fffd}")
}

/// A value as JSON, with NUL in strings and keys replaced as in [`text`].
fn json(value: &impl serde::Serialize) -> serde_json::Value {
    fn clean(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) if s.contains('\0') => *s = text(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(clean),
            serde_json::Value::Object(map) => {
                if map.keys().any(|k| k.contains('\0')) {
                    *map = std::mem::take(map)
                        .into_iter()
                        .map(|(k, v)| (text(&k), v))
                        .collect();
                }
                map.values_mut().for_each(clean);
            }
            _ => {}
        }
    }
    let mut v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    clean(&mut v);
    v
}

/// The prefix of the table's index names: its unqualified name, cut so that the
/// longest index name fits PostgreSQL's 63 bytes.
fn index_prefix(table: &str) -> String {
    let name = table.rsplit('.').next().unwrap_or(table);
    name[..name.len().min(40)].to_owned()
}

/// `CREATE TABLE IF NOT EXISTS`, and its indexes (see [`Postgres`]).
fn create_sql(table: &str, prefix: &str) -> (String, String) {
    let create_table = format!(
        r#"CREATE TABLE IF NOT EXISTS {table} (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    version integer NOT NULL,
    "timestamp" timestamptz NOT NULL,
    user_id text,
    anonymous_id text,
    session_id text,
    app_name text NOT NULL,
    app_version text NOT NULL,
    os text NOT NULL,
    arch text NOT NULL,
    locale text,
    properties jsonb NOT NULL,
    call jsonb,
    sample_rate double precision
)"#
    );
    let create_indexes = format!(
        r#"CREATE INDEX IF NOT EXISTS "{prefix}_timestamp_idx" ON {table} ("timestamp");
CREATE INDEX IF NOT EXISTS "{prefix}_name_timestamp_idx" ON {table} (name, "timestamp");"#
    );
    (create_table, create_indexes)
}

/// One statement per batch: every column as an array, zipped by `unnest`.
fn insert_sql(table: &str) -> String {
    format!(
        r#"INSERT INTO {table} (id, name, version, "timestamp", user_id, anonymous_id, session_id,
    app_name, app_version, os, arch, locale, properties, call, sample_rate)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::int4[], $4::timestamptz[], $5::text[],
    $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
    $13::jsonb[], $14::jsonb[], $15::float8[])
ON CONFLICT (id) DO NOTHING"#
    )
}

/// Whether the statement may succeed on a new connection: the connection closed or
/// broke, the server is shutting down or out of resources, or the statement lost a
/// race that a retry wins.
fn connection_lost(e: &postgres::Error) -> bool {
    let Some(db) = e.as_db_error() else {
        // Not an answer from the server: the connection closed or failed (an I/O
        // error, a timeout), unless the client itself refused the statement (a
        // value it cannot encode), which would fail again.
        let text = e.to_string();
        return e.is_closed()
            || std::error::Error::source(e).is_some_and(|s| s.is::<io::Error>())
            || [
                "error connecting",
                "error communicating",
                "timeout",
                "unexpected message",
            ]
            .iter()
            .any(|p| text.starts_with(p));
    };
    let code = db.code();
    code.code().starts_with("08")
        || code.code().starts_with("53")
        || [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            // Two writers creating the same table at once.
            SqlState::UNIQUE_VIOLATION,
        ]
        .contains(code)
}

/// `ConnectionAborted` for an error worth retrying on a new connection (see
/// [`connection_lost`]), `Other` for one that would happen again.
fn error_kind(e: &postgres::Error) -> io::ErrorKind {
    if connection_lost(e) {
        io::ErrorKind::ConnectionAborted
    } else {
        io::ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows() {
        let sink = Postgres::new("postgres://app:hunter2@127.0.0.1:1/db");
        let shown = format!("{sink:?} {}", sink.name());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("app:***@127.0.0.1:1/db"), "{shown}");
    }

    #[test]
    fn an_unset_environment_variable_is_named() {
        let err = Postgres::from_env("TELEMETRY_POSTGRES_URL_NEVER_SET").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the environment variable TELEMETRY_POSTGRES_URL_NEVER_SET"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_url_or_table_is_a_clear_error_not_a_retry() {
        let err = Postgres::connect("postgres://app:hunter2@[::1:5432/db").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("invalid PostgreSQL URL"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
        let err = Postgres::new("postgres://127.0.0.1:1/db")
            .table("no good")
            .connected()
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid PostgreSQL table name `no good`"),
            "{err}"
        );
    }
}

//! The record format: one JSON object per emitted event, one per line in a JSONL file.
//!
//! This is the stable interchange format that every sink and exporter translates from
//! and that `telemetry` CLI commands read back. See the README's "Record format"
//! section for the full description; [`RECORD_FORMAT`] is bumped on any breaking change.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::instrument::Outcome;
use crate::value::Properties;

/// Version of the record format, written in each record's `format` field.
pub const RECORD_FORMAT: u32 = 1;

/// One emitted event as written to sinks.
///
/// ```json
/// {"format":1,"type":"event","id":"0193...","timestamp":"2026-11-25T18:41:11.123Z",
///  "name":"cart.item_added","version":1,"properties":{"dish_id":7,"price_cents":1250},
///  "context":{"app_name":"food-delivery","app_version":"1.4.0","anonymous_id":"...",
///             "session_id":"...","os":"linux","arch":"x86_64"}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// Record format version ([`RECORD_FORMAT`]).
    pub format: u32,
    /// What the record is; `event` for emitted events.
    #[serde(rename = "type")]
    pub kind: RecordKind,
    /// Unique id (UUID v7, time-ordered), stable across retries for de-duplication.
    pub id: uuid::Uuid,
    /// When the event was emitted, UTC, RFC 3339 with milliseconds.
    pub timestamp: Timestamp,
    /// Event name from the catalog.
    pub name: String,
    /// Event schema version from the catalog.
    pub version: u32,
    /// Property values, after personal data handling. `None` options are absent.
    pub properties: Properties,
    /// Who and where: app, ids, platform.
    pub context: Context,
    /// For events of `#[instrument_event]` functions: the call's function, duration
    /// and outcome. Absent for events sent with `emit!`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Call>,
    /// The sampling rate the event was kept at, only when below 1
    /// (`Config::sample_rate`): each such record stands for `1 / sample_rate` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<f64>,
}

/// How an instrumented call went: the record's `call` object.
///
/// ```json
/// "call": {"function": "shop::checkout::pay", "duration_ms": 12.5, "outcome": "error", "error_kind": "CardDeclined"}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Call {
    /// Path of the instrumented function, e.g. `shop::checkout::pay`.
    pub function: String,
    /// Wall time of the call in milliseconds, from a monotonic clock (for a future,
    /// from its first poll to its completion or drop).
    pub duration_ms: f64,
    /// How the call ended.
    pub outcome: Outcome,
    /// For `error`: the error's kind (see [`ErrorKind`](crate::instrument::ErrorKind)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
}

impl Call {
    /// A call description; `error_kind` is for `Outcome::Error`.
    pub fn new(
        function: impl Into<String>,
        duration: Duration,
        outcome: Outcome,
        error_kind: Option<String>,
    ) -> Call {
        Call {
            function: function.into(),
            duration_ms: duration.as_nanos() as f64 / 1e6,
            outcome,
            error_kind,
        }
    }

    /// The duration as a `Duration`.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64((self.duration_ms / 1e3).max(0.0))
    }
}

impl Record {
    /// Parses one JSONL line.
    pub fn from_json(line: &str) -> Result<Record, serde_json::Error> {
        serde_json::from_str(line)
    }

    /// Serializes as one JSON line, without the trailing newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("records hold only JSON-representable values")
    }
}

/// The type of a [`Record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordKind {
    /// An event emitted by the program.
    Event,
    /// The pipeline's own counters (`name` is `telemetry.stats`, the properties are
    /// the fields of [`Stats`](crate::Stats)), written periodically
    /// (`Config::stats_interval`). Not an event: readers skip it when counting events.
    Stats,
    /// `telemetry_core::identify`: its context links the `anonymous_id` to the
    /// `user_id` the user signed in as (`name` is `telemetry.identify`, no properties).
    /// Not an event: readers skip it when counting events.
    Identify,
}

/// Who emitted a record and where. Optional fields are absent when unknown, never `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Context {
    /// Application name from the config.
    pub app_name: String,
    /// Application version from the config.
    pub app_version: String,
    /// Anonymous id of the installation or visitor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<String>,
    /// Id of the signed-in user, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Operating system, as `std::env::consts::OS` (`linux`, `macos`, `windows`, ...).
    pub os: String,
    /// CPU architecture, as `std::env::consts::ARCH`.
    pub arch: String,
    /// The user's locale as a BCP 47 tag (`en-GB`), from `Config::locale` or the
    /// `LC_ALL`, `LC_MESSAGES` or `LANG` environment variables when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// A point in time, serialized as RFC 3339 UTC with milliseconds
/// (`2026-11-25T18:41:11.123Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(SystemTime);

impl Timestamp {
    /// The current time, truncated to milliseconds (what the record can hold).
    pub fn now() -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }

    /// A timestamp from a `SystemTime`, truncated to milliseconds.
    pub fn from_system_time(t: SystemTime) -> Timestamp {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        Timestamp(UNIX_EPOCH + Duration::from_millis(since.as_millis() as u64))
    }

    /// A timestamp from milliseconds since the Unix epoch.
    pub fn from_unix_millis(millis: u64) -> Timestamp {
        Timestamp(UNIX_EPOCH + Duration::from_millis(millis))
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(self) -> u64 {
        self.0
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64
    }

    /// As a `SystemTime`.
    pub fn system_time(self) -> SystemTime {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_rfc3339_millis(self.0))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        humantime::parse_rfc3339_weak(&s)
            .map(Timestamp)
            .map_err(|e| serde::de::Error::custom(format_args!("timestamp `{s}`: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn timestamp_is_rfc3339_millis_utc() {
        let t =
            Timestamp::from_system_time(UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456));
        assert_eq!(t.to_string(), "2023-11-14T22:13:20.123Z");
        let back: Timestamp = serde_json::from_str("\"2023-11-14T22:13:20.123Z\"").unwrap();
        assert_eq!(back, t);
        assert_eq!(t.unix_millis(), 1_700_000_000_123);
    }

    #[test]
    fn record_round_trips_and_omits_unknown_context() {
        let record = Record {
            format: RECORD_FORMAT,
            kind: RecordKind::Event,
            id: uuid::Uuid::now_v7(),
            timestamp: Timestamp::now(),
            name: "cart.item_added".into(),
            version: 2,
            properties: Properties(vec![("dish_id".into(), Value::UInt(7))]),
            context: Context {
                app_name: "app".into(),
                app_version: "1.0".into(),
                os: "linux".into(),
                arch: "x86_64".into(),
                ..Context::default()
            },
            call: None,
            sample_rate: None,
        };
        let line = record.to_json();
        assert!(
            line.starts_with(r#"{"format":1,"type":"event","id":""#),
            "{line}"
        );
        assert!(
            !line.contains("user_id") && !line.contains("null") && !line.contains("call"),
            "{line}"
        );
        assert_eq!(Record::from_json(&line).unwrap(), record);

        let instrumented = Record {
            call: Some(Call::new(
                "shop::pay",
                Duration::from_micros(12_500),
                Outcome::Error,
                Some("CardDeclined".into()),
            )),
            ..record
        };
        let line = instrumented.to_json();
        assert!(
            line.ends_with(r#""call":{"function":"shop::pay","duration_ms":12.5,"outcome":"error","error_kind":"CardDeclined"}}"#),
            "{line}"
        );
        assert_eq!(Record::from_json(&line).unwrap(), instrumented);
    }
}

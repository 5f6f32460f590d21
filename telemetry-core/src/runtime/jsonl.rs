//! Writes a queued event straight to its JSON line, without building a `Record`.
//!
//! Building a `Record` costs a dozen small allocations per event (property and event
//! names, the context's strings) before serde even starts; when every sink takes JSON
//! lines (the JSONL file, stdout) the writer formats each line directly from the
//! queued values instead: the context is serialized once, the timestamp once per
//! millisecond. The output is byte for byte what serializing the `Record` gives
//! (checked by the test below), so readers cannot tell the two paths apart.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Write;

use super::inline::CallRef;
use super::inline::Encoded;
use crate::record::{Context, RECORD_FORMAT, Timestamp};
use crate::schema::EventSchema;
use crate::value::Value;

/// Per-writer state: the serialized context, the last formatted timestamp and the
/// fixed parts of each event type's lines.
pub(super) struct LineWriter {
    /// `{"format":1,"type":"event","id":"`: how every event line starts.
    prefix: Vec<u8>,
    /// `,"context":{...}` as serde writes it.
    context: Vec<u8>,
    last_millis: u64,
    /// `"2026-11-25T18:41:11.123Z"`, quoted, for `last_millis`.
    timestamp: Vec<u8>,
    /// The sampling rate of the next lines, when below 1.
    pub(super) sample_rate: Option<f64>,
    /// By the address of the (static) schema.
    schemas: HashMap<usize, SchemaJson, BuildHasherDefault<AddressHasher>>,
}

/// Hashes the address of a schema: one multiplication instead of SipHash (the keys
/// are addresses of statics, not attacker-chosen).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let h = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = h ^ (h >> 32);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// What serde would write for an event type, formatted once per writer.
struct SchemaJson {
    /// `,"name":"...","version":N,"properties":{`
    head: Vec<u8>,
    /// `"property":` for each property of the schema, by index.
    keys: Vec<Box<[u8]>>,
}

impl SchemaJson {
    fn new(schema: &EventSchema) -> SchemaJson {
        let mut head = b",\"name\":".to_vec();
        let _ = serde_json::to_writer(&mut head, &*schema.name);
        let _ = write!(head, ",\"version\":{},\"properties\":{{", schema.version);
        let keys = schema
            .properties
            .iter()
            .map(|p| {
                let mut key = serde_json::to_vec(&*p.name).unwrap_or_default();
                key.push(b':');
                key.into_boxed_slice()
            })
            .collect();
        SchemaJson { head, keys }
    }
}

/// The `"properties"` object of the line being written.
pub(super) struct PropertiesJson<'a> {
    out: &'a mut Vec<u8>,
    keys: &'a [Box<[u8]>],
    first: bool,
}

impl PropertiesJson<'_> {
    /// Writes a property as it was emitted.
    #[inline]
    pub(super) fn value(&mut self, index: usize, value: Encoded<'_>) {
        if !self.key(index) {
            return;
        }
        let out = &mut *self.out;
        // As `Value`'s `Serialize` writes it.
        let _ = match value {
            Encoded::Bool(b) => {
                out.extend_from_slice(if b { b"true" } else { b"false" });
                Ok(())
            }
            Encoded::Int(i) => serde_json::to_writer(out, &i),
            Encoded::UInt(u) => serde_json::to_writer(out, &u),
            Encoded::Float(f) if f.is_finite() => serde_json::to_writer(out, &f),
            Encoded::Float(_) => {
                out.extend_from_slice(b"null");
                Ok(())
            }
            Encoded::Str(s) => {
                write_json_string(out, s);
                Ok(())
            }
        };
    }

    /// Writes an owned property value (after personal data handling).
    pub(super) fn owned(&mut self, index: usize, value: &Value) {
        if self.key(index) {
            let _ = serde_json::to_writer(&mut *self.out, value);
        }
    }

    /// `,"name":`; `false` for an index the schema does not have.
    #[inline]
    fn key(&mut self, index: usize) -> bool {
        let Some(key) = self.keys.get(index) else {
            return false;
        };
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.extend_from_slice(key);
        true
    }
}

impl LineWriter {
    pub(super) fn new(context: &Context) -> LineWriter {
        let mut writer = LineWriter {
            prefix: format!("{{\"format\":{RECORD_FORMAT},\"type\":\"event\",\"id\":\"")
                .into_bytes(),
            context: Vec::new(),
            last_millis: u64::MAX,
            timestamp: Vec::new(),
            sample_rate: None,
            schemas: HashMap::default(),
        };
        writer.set_context(context);
        writer
    }

    /// The context of the following lines.
    pub(super) fn set_context(&mut self, context: &Context) {
        self.context.clear();
        self.context.extend_from_slice(b",\"context\":");
        serde_json::to_writer(&mut self.context, context).expect("a context serializes");
    }

    /// Appends one JSON line (with its `\n`) to `out`; `properties` writes the
    /// properties (after personal data handling).
    pub(super) fn line(
        &mut self,
        out: &mut Vec<u8>,
        id: uuid::Uuid,
        unix_millis: u64,
        schema: &'static EventSchema,
        call: Option<&CallRef<'_>>,
        properties: impl FnOnce(&mut PropertiesJson<'_>),
    ) {
        if unix_millis != self.last_millis {
            self.last_millis = unix_millis;
            self.timestamp.clear();
            let _ = write!(
                self.timestamp,
                "\"{}\"",
                Timestamp::from_unix_millis(unix_millis)
            );
        }
        let schema_json = self
            .schemas
            .entry(std::ptr::from_ref(schema) as usize)
            .or_insert_with(|| SchemaJson::new(schema));
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(
            id.hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer())
                .as_bytes(),
        );
        out.extend_from_slice(b"\",\"timestamp\":");
        out.extend_from_slice(&self.timestamp);
        out.extend_from_slice(&schema_json.head);
        properties(&mut PropertiesJson {
            out: &mut *out,
            keys: &schema_json.keys,
            first: true,
        });
        out.push(b'}');
        out.extend_from_slice(&self.context);
        if let Some(call) = call {
            out.extend_from_slice(b",\"call\":");
            let _ = serde_json::to_writer(&mut *out, call);
        }
        if let Some(rate) = self.sample_rate {
            out.extend_from_slice(b",\"sample_rate\":");
            let _ = serde_json::to_writer(&mut *out, &rate);
        }
        out.extend_from_slice(b"}\n");
    }
}

/// Appends `s` (UTF-8) as a JSON string, escaped exactly as serde_json escapes it:
/// `"` and `\\` with a backslash, control characters as `\b \t \n \f \r` or `\u00xx`,
/// everything else (including non-ASCII) as is.
fn write_json_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(&s[start..i]);
        start = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TelemetryEvent;
    use crate::instrument::Outcome;
    use crate::record::{Call, Record, RecordKind};

    /// The line a [`Record`] serializes to.
    fn record_line(record: &Record) -> Vec<u8> {
        let mut v = record.to_json().into_bytes();
        v.push(b'\n');
        v
    }
    use crate::value::Properties;

    /// An event for the formatter test.
    #[derive(crate::TelemetryEvent)]
    #[telemetry(name = "test.formatted", crate = "crate")]
    struct Formatted {
        /// A count.
        count: u64,
        /// A quoted "string".
        text: String,
        /// A float.
        ratio: f64,
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut text: String = (0u8..0x80).map(char::from).collect();
        text.push_str("é ✓ \u{1F600} \u{2028}");
        for s in [text.as_str(), "", "plain", "\"", "end\\"] {
            let mut out = Vec::new();
            write_json_string(&mut out, s.as_bytes());
            assert_eq!(out, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn lines_are_byte_identical_to_serialized_records() {
        let schema = <Formatted as TelemetryEvent>::schema();
        let context = Context {
            app_name: "app \"quoted\"".into(),
            app_version: "1.0".into(),
            anonymous_id: Some("anon".into()),
            os: "linux".into(),
            arch: "x86_64".into(),
            ..Context::default()
        };
        let values = [
            (0, Value::UInt(7)),
            (1, Value::from("tab\t\"q\" é")),
            (2, Value::Float(f64::NAN)),
        ];
        let id = uuid::Uuid::now_v7();
        for call in [
            None,
            Some(Call::new(
                "a::b",
                std::time::Duration::from_micros(1500),
                Outcome::Error,
                Some("E".into()),
            )),
        ] {
            let mut writer = LineWriter::new(&context);
            let mut out = Vec::new();
            // Half of the values as emitted, half owned (as after PII handling).
            writer.line(
                &mut out,
                id,
                1_700_000_000_123,
                schema,
                call.as_ref().map(CallRef::from).as_ref(),
                |properties| {
                    properties.value(0, Encoded::UInt(7));
                    properties.value(9, Encoded::UInt(7)); // not in the schema
                    properties.owned(1, &values[1].1);
                    properties.value(2, Encoded::Float(f64::NAN));
                },
            );
            let record = Record {
                format: RECORD_FORMAT,
                kind: RecordKind::Event,
                id,
                timestamp: Timestamp::from_unix_millis(1_700_000_000_123),
                name: schema.name.to_string(),
                version: schema.version,
                properties: Properties(
                    values
                        .iter()
                        .map(|(i, v)| (schema.properties[*i].name.to_string(), v.clone()))
                        .collect(),
                ),
                context: context.clone(),
                call,
                sample_rate: None,
            };
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(record_line(&record)).unwrap()
            );

            // A second line from the same writer (cached schema, new millisecond),
            // with the other kinds of values, and a sampling rate.
            let mut out = Vec::new();
            writer.sample_rate = Some(0.25);
            writer.line(
                &mut out,
                id,
                1_700_000_000_124,
                schema,
                None,
                |properties| {
                    properties.value(2, Encoded::Float(-0.5));
                    properties.value(0, Encoded::Int(-3));
                    properties.value(1, Encoded::Str(b"\x01 \\ end"));
                    properties.owned(1, &Value::Bool(true));
                },
            );
            let record = Record {
                timestamp: Timestamp::from_unix_millis(1_700_000_000_124),
                properties: Properties(vec![
                    ("ratio".into(), Value::Float(-0.5)),
                    ("count".into(), Value::Int(-3)),
                    ("text".into(), Value::from("\x01 \\ end")),
                    ("text".into(), Value::Bool(true)),
                ]),
                call: None,
                sample_rate: Some(0.25),
                ..record
            };
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(record_line(&record)).unwrap()
            );
        }
    }
}

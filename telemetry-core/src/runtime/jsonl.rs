//! Writes a queued event straight to its JSON line, without building a `Record`.
//!
//! Building a `Record` costs a dozen small allocations per event (property and event
//! names, the context's strings) before serde even starts; when every sink takes JSON
//! lines (the JSONL file, stdout) the writer formats each line directly from the
//! queued values instead: the context is serialized once, the timestamp once per
//! millisecond. The output is byte for byte what serializing the `Record` gives
//! (checked by the test below), so readers cannot tell the two paths apart.

use std::io::Write;

use crate::record::{Context, RECORD_FORMAT, Timestamp};
use crate::schema::EventSchema;
use crate::value::Value;

/// Per-writer state: the serialized context and the last formatted timestamp.
pub(super) struct LineWriter {
    /// `,"context":{...}` as serde writes it.
    context: Vec<u8>,
    last_millis: u64,
    /// `"2026-11-25T18:41:11.123Z"`, quoted, for `last_millis`.
    timestamp: Vec<u8>,
    /// The sampling rate of the next lines, when below 1.
    pub(super) sample_rate: Option<f64>,
}

impl LineWriter {
    pub(super) fn new(context: &Context) -> LineWriter {
        let mut writer = LineWriter {
            context: Vec::new(),
            last_millis: u64::MAX,
            timestamp: Vec::new(),
            sample_rate: None,
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

    /// Appends one JSON line (with its `\n`) to `out`. `properties` are the values
    /// after personal data handling, by schema index.
    pub(super) fn line(
        &mut self,
        out: &mut Vec<u8>,
        id: uuid::Uuid,
        unix_millis: u64,
        schema: &'static EventSchema,
        properties: &[(usize, Value)],
        call: Option<&crate::record::Call>,
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
        let _ = write!(
            out,
            "{{\"format\":{RECORD_FORMAT},\"type\":\"event\",\"id\":\""
        );
        out.extend_from_slice(
            id.hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer())
                .as_bytes(),
        );
        out.extend_from_slice(b"\",\"timestamp\":");
        out.extend_from_slice(&self.timestamp);
        out.extend_from_slice(b",\"name\":");
        let _ = serde_json::to_writer(&mut *out, &*schema.name);
        let _ = write!(out, ",\"version\":{},\"properties\":{{", schema.version);
        let mut first = true;
        for (index, value) in properties {
            let Some(property) = schema.properties.get(*index) else {
                continue;
            };
            if !first {
                out.push(b',');
            }
            first = false;
            let _ = serde_json::to_writer(&mut *out, &*property.name);
            out.push(b':');
            let _ = serde_json::to_writer(&mut *out, value);
        }
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
        let values = vec![
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
            writer.line(
                &mut out,
                id,
                1_700_000_000_123,
                schema,
                &values,
                call.as_ref(),
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
        }
    }
}

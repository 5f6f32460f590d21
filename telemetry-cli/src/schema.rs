//! `telemetry catalog schema`: one JSON Schema (draft 2020-12) per event, describing
//! a whole record of that event as written to JSONL (README "Record format"), so any
//! JSON Schema tool (a warehouse loader, a Snowplow/Iglu-style registry, a test) can
//! check records without this crate.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value as Json, json};
use telemetry_core::catalog::CatalogEvent;
use telemetry_core::record::RECORD_FORMAT;
use telemetry_core::{Pii, PropertySchema, PropertyType};

use crate::input::{Failure, print, read_catalog, write_file};

/// Arguments of `telemetry catalog schema`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The catalog file.
    catalog: PathBuf,
    /// Directory to write `<event name>.schema.json` files into (created if missing).
    #[arg(long)]
    out: PathBuf,
}

/// The JSON Schema of one event's records.
pub(crate) fn event_schema(event: &CatalogEvent) -> Json {
    let s = &event.schema;
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for p in s.properties.iter().filter(|p| p.pii != Pii::Drop) {
        properties.insert(p.name.to_string(), property_schema(p));
        if !p.optional {
            required.push(p.name.to_string());
        }
    }
    let context = json!({
        "type": "object",
        "properties": {
            "app_name": {"type": "string"}, "app_version": {"type": "string"},
            "anonymous_id": {"type": "string"}, "user_id": {"type": "string"},
            "session_id": {"type": "string"}, "os": {"type": "string"}, "arch": {"type": "string"}
        },
        "required": ["app_name", "app_version", "os", "arch"]
    });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("urn:telemetry:event:{}:{}", s.name, s.version),
        "title": s.name,
        "description": s.description,
        "x-owner": s.owner,
        "x-category": s.category,
        "x-rust-type": s.rust_type,
        "type": "object",
        "properties": {
            "format": {"const": RECORD_FORMAT},
            "type": {"const": "event"},
            "id": {"type": "string", "format": "uuid"},
            "timestamp": {"type": "string", "format": "date-time"},
            "name": {"const": s.name},
            "version": {"const": s.version},
            "properties": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false
            },
            "context": context
        },
        "required": ["format", "type", "id", "timestamp", "name", "version", "properties", "context"]
    })
}

/// The schema of one property value, with personal data handling applied: hashed and
/// redacted values are strings whatever the field's type, dropped ones never appear.
fn property_schema(p: &PropertySchema) -> Json {
    let mut schema = match p.pii {
        Pii::Hash => json!({"type": "string", "pattern": "^[0-9a-f]{32}$"}),
        Pii::Redact => json!({"const": "[redacted]"}),
        _ if !p.values.is_empty() => json!({"type": "string", "enum": p.values}),
        _ => match p.ty {
            PropertyType::Boolean => json!({"type": "boolean"}),
            PropertyType::String => json!({"type": "string"}),
            // A non-finite float is written as `null`.
            PropertyType::Number => json!({"type": ["number", "null"]}),
            PropertyType::Integer => {
                let mut s = json!({"type": "integer"});
                if let Some((min, max)) = integer_range(&p.rust_type) {
                    s["minimum"] = min;
                    s["maximum"] = max;
                }
                s
            }
        },
    };
    let map = schema.as_object_mut().expect("built as an object");
    if !p.description.is_empty() {
        map.insert("description".into(), p.description.to_string().into());
    }
    map.insert("x-pii".into(), p.pii.as_str().into());
    map.insert("x-rust-type".into(), p.rust_type.to_string().into());
    schema
}

/// Bounds of a Rust integer type (`u32`, `Option<i8>`, ...).
fn integer_range(rust_type: &str) -> Option<(Json, Json)> {
    let t = rust_type.trim();
    let t = t
        .strip_prefix("Option<")
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(t)
        .trim();
    Some(match t {
        "u8" => (0.into(), u8::MAX.into()),
        "u16" => (0.into(), u16::MAX.into()),
        "u32" => (0.into(), u32::MAX.into()),
        "u64" | "usize" => (0.into(), u64::MAX.into()),
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" | "isize" => (i64::MIN.into(), i64::MAX.into()),
        _ => return None,
    })
}

/// `telemetry catalog schema`.
pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let catalog = read_catalog(&args.catalog)?;
    let mut written = String::new();
    for event in &catalog.events {
        let path = args.out.join(format!("{}.schema.json", event.schema.name));
        let mut text = serde_json::to_string_pretty(&event_schema(event)).expect("plain JSON");
        text.push('\n');
        write_file(&path, &text)?;
        written.push_str(&format!("{}\n", path.display()));
    }
    written.push_str(&format!(
        "{} schemas written to {}\n",
        catalog.events.len(),
        args.out.display()
    ));
    print(&written);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_ranges_follow_the_rust_type() {
        assert_eq!(integer_range("Option<u8>"), Some((0.into(), 255.into())));
        assert_eq!(integer_range("i16").unwrap().0, Json::from(-32768));
        assert_eq!(integer_range("Count"), None);
    }
}

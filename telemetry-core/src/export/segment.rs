//! Segment, through the HTTP Tracking API's batch endpoint (`POST /v1/batch`).
//!
//! Each record becomes a `track` call: `event` is the event name, `userId` and
//! `anonymousId` the ids, `messageId` the record id (Segment de-duplicates on it, so
//! retries never count twice), `timestamp` ISO 8601, `properties` the properties (with
//! an instrumented call's fields, `sample_rate` and `session_id`), and `context` the
//! app version, OS, locale and library. Segment answers 200 to every well-formed
//! request and validates later, so the exporter keeps every event under 32 KB and
//! every request under 500 KB itself; a 400 (oversized or malformed) is not retried.

use std::io;

use serde_json::json;

use super::engine::{
    Encoded, HttpExporter, Limits, Request, Secret, Vendor, basic_auth, iso_timestamp,
    properties_json,
};
use crate::record::Record;

/// The endpoint (HTTP API Source: `https://api.segment.io/v1/`).
pub const SEGMENT_ENDPOINT: &str = "https://api.segment.io";
/// The endpoint of EU workspaces (HTTP API Source: "HTTP API sources in EU workspaces
/// should use the eu1.api.segmentapis.com endpoint"; Regional Segment).
pub const SEGMENT_EU_ENDPOINT: &str = "https://eu1.api.segmentapis.com";
/// Most bytes per event (HTTP Tracking API, "Max request size" / "Batch": 32 KB per
/// call).
pub const SEGMENT_MAX_EVENT_BYTES: usize = 32 * 1024;
/// Most bytes per batch request (HTTP Tracking API, "Batch": 500 KB per request).
pub const SEGMENT_MAX_REQUEST_BYTES: usize = 500 * 1024;
/// Most events per batch request (HTTP Tracking API, "Batch": up to 2,500 events).
pub const SEGMENT_MAX_EVENTS: usize = 2500;
/// Bytes of the body besides the events (`{"batch":[],"sentAt":"..."}`).
const ENVELOPE_BYTES: usize = 64;

/// The Segment exporter: a [`Sink`](crate::Sink) sending `track` calls to the HTTP
/// Tracking API in batches.
///
/// Each record becomes a `track` call: `event` is the event name, `userId` and
/// `anonymousId` the ids, `messageId` the record id (Segment de-duplicates on it, so
/// retries never count twice), `timestamp` ISO 8601, `properties` the properties (with
/// an instrumented call's fields, `sample_rate` and `session_id`), and `context` the
/// app version, OS, locale and library. Segment answers 200 to every well-formed
/// request and validates later, so the exporter keeps every event under 32 KB and
/// every request under 500 KB itself; a 400 (oversized or malformed) is not retried.
///
/// ```no_run
/// use telemetry_core::export::Segment;
///
/// let segment = Segment::from_env("SEGMENT_WRITE_KEY")?;
/// let _guard = telemetry_core::init(telemetry_core::Config::new("shop", "1.0").sink(segment));
/// # Ok::<(), std::io::Error>(())
/// ```
pub type Segment = HttpExporter<SegmentApi>;

/// Segment's rules for the [`HttpExporter`]: endpoint, Basic authentication with the
/// write key, `track` encoding and limits.
#[derive(Debug, Clone)]
pub struct SegmentApi {
    write_key: Secret,
}

impl HttpExporter<SegmentApi> {
    /// An exporter for the source of `write_key`.
    pub fn new(write_key: impl Into<String>) -> Segment {
        HttpExporter::with_vendor(SegmentApi {
            write_key: Secret::new(write_key),
        })
    }

    /// An exporter with the write key read from the environment variable `var` (e.g.
    /// `SEGMENT_WRITE_KEY`); the error names the variable.
    pub fn from_env(var: &str) -> io::Result<Segment> {
        Ok(HttpExporter::with_vendor(SegmentApi {
            write_key: Secret::from_env(var, "Segment write key")?,
        }))
    }

    /// Sends to the endpoint of EU workspaces ([`SEGMENT_EU_ENDPOINT`]); events of an
    /// EU workspace sent to the default endpoint are accepted but never appear.
    pub fn eu(self) -> Segment {
        self.endpoint(SEGMENT_EU_ENDPOINT)
    }
}

impl Vendor for SegmentApi {
    fn name(&self) -> &'static str {
        "segment"
    }

    fn default_endpoint(&self) -> String {
        SEGMENT_ENDPOINT.to_owned()
    }

    fn limits(&self) -> Limits {
        let mut limits = Limits::new(
            SEGMENT_MAX_EVENTS,
            SEGMENT_MAX_REQUEST_BYTES,
            SEGMENT_MAX_EVENT_BYTES,
        );
        limits.envelope_bytes = ENVELOPE_BYTES;
        limits
    }

    fn encode(&self, record: &Record) -> Result<Vec<u8>, String> {
        let context = &record.context;
        if context.user_id.is_none() && context.anonymous_id.is_none() {
            return Err("Segment needs a user id or an anonymous id".into());
        }
        let mut properties = properties_json(record);
        if let Some(session) = &context.session_id {
            properties
                .entry("session_id")
                .or_insert_with(|| session.clone().into());
        }
        let mut event = json!({
            "type": "track",
            "event": record.name,
            "messageId": record.id.to_string(),
            "timestamp": iso_timestamp(record),
            "properties": properties,
            "context": {
                "app": {"name": context.app_name, "version": context.app_version},
                "os": {"name": context.os},
                "library": {"name": "telemetry-core", "version": env!("CARGO_PKG_VERSION")},
            },
        });
        if let Some(user) = &context.user_id {
            event["userId"] = user.clone().into();
        }
        if let Some(anonymous) = &context.anonymous_id {
            event["anonymousId"] = anonymous.clone().into();
        }
        if let Some(locale) = &context.locale {
            event["context"]["locale"] = locale.clone().into();
        }
        serde_json::to_vec(&event).map_err(|e| e.to_string())
    }

    fn request(&self, endpoint: &str, events: &[Encoded<'_>]) -> Request {
        let mut body = Vec::with_capacity(
            ENVELOPE_BYTES + events.iter().map(|e| e.bytes.len() + 1).sum::<usize>(),
        );
        body.extend_from_slice(b"{\"batch\":[");
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(event.bytes);
        }
        body.extend_from_slice(b"],\"sentAt\":");
        let now = crate::record::Timestamp::now().to_string();
        body.extend_from_slice(json!(now).to_string().as_bytes());
        body.push(b'}');
        Request::new(format!("{endpoint}/v1/batch"), "application/json", body)
            .header("authorization", basic_auth(self.write_key.expose(), ""))
    }
}

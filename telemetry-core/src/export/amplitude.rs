//! Amplitude, through the HTTP V2 API (`POST /2/httpapi`).
//!
//! Each record becomes one Amplitude event: `event_type` is the event name, `user_id`
//! and `device_id` the user id and the anonymous id, `time` the timestamp in
//! milliseconds, `insert_id` the record id (Amplitude ignores a repeated `insert_id`
//! for 7 days, so retries never count twice), `session_id` the session's start in
//! milliseconds (read from the pipeline's UUID v7 session ids; any other session id
//! goes to `event_properties.session_id`), `app_version`, `os_name`, `language`, and
//! the properties (with an instrumented call's `function`, `duration_ms`, `outcome`,
//! `error_kind` and the record's `sample_rate`) in `event_properties`.
//!
//! Short ids: Amplitude drops user and device ids shorter than 5 characters unless the
//! request sets `options.min_id_length`. Ids are never padded (that would change them
//! and split a user in two); a request holding a shorter id sets `min_id_length` to
//! its shortest id instead.

use std::io;
use std::time::Duration;

use serde_json::{Value as Json, json};

use super::engine::{
    Answer, Encoded, HttpExporter, Limits, Request, Secret, Vendor, Verdict, parse_retry_after,
    properties_json, session_start_millis, status_reason,
};
use crate::record::Record;

/// The HTTP V2 endpoint (HTTP V2 API, "Endpoints": standard server).
pub const AMPLITUDE_ENDPOINT: &str = "https://api2.amplitude.com";
/// The EU data residency endpoint (HTTP V2 API, "Endpoints": EU residency server).
pub const AMPLITUDE_EU_ENDPOINT: &str = "https://api.eu.amplitude.com";
/// Most events per request (HTTP V2 API, "Upload limit"; "Batch and retry HTTP V2 API
/// requests": up to 2,000 events per request).
pub const AMPLITUDE_MAX_EVENTS: usize = 2000;
/// Most bytes per request (HTTP V2 API, "Upload limit": payloads over 1 MB get a 413).
pub const AMPLITUDE_MAX_REQUEST_BYTES: usize = 1_000_000;
/// The shortest user or device id Amplitude keeps without `options.min_id_length`
/// (HTTP V2 API, "Considerations" / `options`).
pub const AMPLITUDE_MIN_ID_LENGTH: usize = 5;
/// The wait after a 429 without `Retry-After` (HTTP V2 API, "Error codes": 429, stop
/// sending events for the throttled user or device for 30 seconds).
pub const AMPLITUDE_THROTTLE_WAIT: Duration = Duration::from_secs(30);
/// Bytes of the body besides the events, without the key (`{"api_key":"",
/// "events":[],"options":{"min_id_length":N}}`).
const ENVELOPE_BYTES: usize = 64;

/// The Amplitude exporter: a [`Sink`](crate::Sink) sending to the HTTP V2 API.
///
/// Each record becomes one Amplitude event: `event_type` is the event name, `user_id`
/// and `device_id` the user id and the anonymous id, `time` the timestamp in
/// milliseconds, `insert_id` the record id (Amplitude ignores a repeated `insert_id`
/// for 7 days, so retries never count twice), `session_id` the session's start in
/// milliseconds (read from the pipeline's UUID v7 session ids; any other session id
/// goes to `event_properties.session_id`), `app_version`, `os_name`, `language`, and
/// the properties (with an instrumented call's `function`, `duration_ms`, `outcome`,
/// `error_kind` and the record's `sample_rate`) in `event_properties`.
///
/// Short ids: Amplitude drops user and device ids shorter than 5 characters unless the
/// request sets `options.min_id_length`. Ids are never padded (that would change them
/// and split a user in two); a request holding a shorter id sets `min_id_length` to
/// its shortest id instead.
///
/// ```no_run
/// use telemetry_core::export::Amplitude;
///
/// let amplitude = Amplitude::from_env("AMPLITUDE_API_KEY")?.eu();
/// let _guard = telemetry_core::init(telemetry_core::Config::new("shop", "1.0").sink(amplitude));
/// # Ok::<(), std::io::Error>(())
/// ```
pub type Amplitude = HttpExporter<AmplitudeApi>;

/// Amplitude's rules for the [`HttpExporter`]: endpoint, event encoding, limits and
/// answers of the HTTP V2 API.
#[derive(Debug, Clone)]
pub struct AmplitudeApi {
    api_key: Secret,
}

impl HttpExporter<AmplitudeApi> {
    /// An exporter for the Amplitude project of `api_key`, on the standard (US)
    /// endpoint.
    pub fn new(api_key: impl Into<String>) -> Amplitude {
        HttpExporter::with_vendor(AmplitudeApi {
            api_key: Secret::new(api_key),
        })
    }

    /// An exporter with the API key read from the environment variable `var` (e.g.
    /// `AMPLITUDE_API_KEY`); the error names the variable.
    pub fn from_env(var: &str) -> io::Result<Amplitude> {
        Ok(HttpExporter::with_vendor(AmplitudeApi {
            api_key: Secret::from_env(var, "Amplitude API key")?,
        }))
    }

    /// Sends to the EU data residency endpoint ([`AMPLITUDE_EU_ENDPOINT`]).
    pub fn eu(self) -> Amplitude {
        self.endpoint(AMPLITUDE_EU_ENDPOINT)
    }
}

impl Vendor for AmplitudeApi {
    fn name(&self) -> &'static str {
        "amplitude"
    }

    fn default_endpoint(&self) -> String {
        AMPLITUDE_ENDPOINT.to_owned()
    }

    fn limits(&self) -> Limits {
        let mut limits = Limits::new(
            AMPLITUDE_MAX_EVENTS,
            AMPLITUDE_MAX_REQUEST_BYTES,
            AMPLITUDE_MAX_REQUEST_BYTES - ENVELOPE_BYTES,
        );
        limits.envelope_bytes = ENVELOPE_BYTES + self.api_key.expose().len();
        limits
    }

    fn encode(&self, record: &Record) -> Result<Vec<u8>, String> {
        let context = &record.context;
        if context.user_id.is_none() && context.anonymous_id.is_none() {
            return Err("Amplitude needs a user id or an anonymous (device) id".into());
        }
        let mut properties = properties_json(record);
        let mut event = serde_json::Map::new();
        event.insert("event_type".into(), record.name.clone().into());
        if let Some(user) = &context.user_id {
            event.insert("user_id".into(), user.clone().into());
        }
        if let Some(device) = &context.anonymous_id {
            event.insert("device_id".into(), device.clone().into());
        }
        event.insert("time".into(), record.timestamp.unix_millis().into());
        event.insert("insert_id".into(), record.id.to_string().into());
        if let Some(session) = &context.session_id {
            match session_start_millis(session) {
                Some(millis) => {
                    event.insert("session_id".into(), millis.into());
                }
                None => {
                    properties
                        .entry("session_id")
                        .or_insert_with(|| session.clone().into());
                }
            }
        }
        event.insert("app_version".into(), context.app_version.clone().into());
        event.insert("os_name".into(), context.os.clone().into());
        if let Some(locale) = &context.locale {
            event.insert("language".into(), locale.clone().into());
        }
        event.insert("event_properties".into(), Json::Object(properties));
        serde_json::to_vec(&event).map_err(|e| e.to_string())
    }

    fn request(&self, endpoint: &str, events: &[Encoded<'_>]) -> Request {
        let mut body = Vec::with_capacity(
            ENVELOPE_BYTES + events.iter().map(|e| e.bytes.len() + 1).sum::<usize>(),
        );
        body.extend_from_slice(b"{\"api_key\":");
        body.extend_from_slice(json!(self.api_key.expose()).to_string().as_bytes());
        body.extend_from_slice(b",\"events\":[");
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(event.bytes);
        }
        body.push(b']');
        let shortest = events
            .iter()
            .flat_map(|e| {
                [&e.record.context.user_id, &e.record.context.anonymous_id]
                    .into_iter()
                    .flatten()
                    .map(|id| id.chars().count())
            })
            .min();
        if let Some(shortest) = shortest.filter(|n| *n < AMPLITUDE_MIN_ID_LENGTH) {
            body.extend_from_slice(
                format!(",\"options\":{{\"min_id_length\":{}}}", shortest.max(1)).as_bytes(),
            );
        }
        body.push(b'}');
        Request::new(format!("{endpoint}/2/httpapi"), "application/json", body)
            .header("accept", "*/*")
    }

    /// The answer's `Retry-After`, else [`AMPLITUDE_THROTTLE_WAIT`] for a 429 (within
    /// the exporter's `max_retry_after` and `max_elapsed`).
    fn retry_after(&self, answer: &Answer) -> Option<Duration> {
        let header = answer.header("retry-after").and_then(parse_retry_after);
        header.or((answer.status == 429).then_some(AMPLITUDE_THROTTLE_WAIT))
    }

    /// 2xx accepted; 400 naming events (`events_with_invalid_fields`,
    /// `events_with_missing_fields`, `events_with_invalid_id_lengths`,
    /// `silenced_events`) ingests nothing: those are
    /// rejected and the rest sent again; any other 400 fails; 413 splits; 408, 429
    /// and 5xx are retried.
    fn verdict(&self, answer: &Answer, events: &[Encoded<'_>]) -> Verdict {
        if answer.status != 400 {
            return Verdict::from_status(answer);
        }
        let Ok(body) = serde_json::from_slice::<Json>(&answer.body) else {
            return Verdict::Fail {
                reason: status_reason(answer),
            };
        };
        let mut invalid = Vec::new();
        for (key, what) in [
            ("events_with_invalid_fields", "invalid"),
            ("events_with_missing_fields", "missing"),
            ("events_with_invalid_id_lengths", "too short"),
        ] {
            if let Some(fields) = body.get(key).and_then(Json::as_object) {
                for (field, indices) in fields {
                    for index in indices.as_array().into_iter().flatten() {
                        if let Some(index) = index.as_u64() {
                            invalid.push((index as usize, format!("{what} field `{field}`")));
                        }
                    }
                }
            }
        }
        for index in body
            .get("silenced_events")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(index) = index.as_u64() {
                invalid.push((index as usize, "silenced device id".to_owned()));
            }
        }
        invalid.retain(|(index, _)| *index < events.len());
        if invalid.is_empty() {
            return Verdict::Fail {
                reason: status_reason(answer),
            };
        }
        Verdict::Invalid {
            events: invalid,
            rest_ingested: false,
        }
    }
}

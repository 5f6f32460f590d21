//! PostHog, through the batch capture endpoint (`POST /batch/`).
//!
//! Each record becomes `{"event", "distinct_id", "properties", "timestamp", "uuid"}`:
//! `distinct_id` is the user id, else the anonymous id; `uuid` is the record id
//! (PostHog de-duplicates on it, so retries never count twice); the properties carry
//! `$session_id`, `$app_version`, `$os`, `$lib`, the event's properties, an
//! instrumented call's fields and `sample_rate`. The project API key goes in the body.
//! A 413 is split, never retried as is; 429 and 5xx are retried (honouring
//! `Retry-After`); other 4xx are not.

use std::io;

use serde_json::json;

use super::engine::{
    Encoded, HttpExporter, Limits, Request, Secret, Vendor, iso_timestamp, properties_json,
};
use crate::record::Record;

/// PostHog Cloud US ingestion (Capture API, "Endpoints": `us.i.posthog.com`).
pub const POSTHOG_ENDPOINT: &str = "https://us.i.posthog.com";
/// PostHog Cloud EU ingestion (Capture API, "Endpoints": `eu.i.posthog.com`).
pub const POSTHOG_EU_ENDPOINT: &str = "https://eu.i.posthog.com";
/// Most bytes per request (Capture API, "Batch events": request body limit 20 MB).
pub const POSTHOG_MAX_REQUEST_BYTES: usize = 20 * 1000 * 1000;
/// Most bytes per event. The Capture API documents only the request limit; events
/// are kept under 1 MB, as for the other vendors, so one event never fills a request.
pub const POSTHOG_MAX_EVENT_BYTES: usize = 1000 * 1000;
/// Most events per request. PostHog documents no count limit; this keeps a request
/// (and the work lost to one failure) moderate, like the official SDKs' batch size.
pub const POSTHOG_MAX_EVENTS: usize = 1000;
/// Bytes of the body besides the events and the key (`{"api_key":"","batch":[]}`).
const ENVELOPE_BYTES: usize = 32;

/// The PostHog exporter: a [`Sink`](crate::Sink) sending to the batch endpoint, PostHog
/// Cloud or self-hosted.
///
/// Each record becomes `{"event", "distinct_id", "properties", "timestamp", "uuid"}`:
/// `distinct_id` is the user id, else the anonymous id; `uuid` is the record id
/// (PostHog de-duplicates on it, so retries never count twice); the properties carry
/// `$session_id`, `$app_version`, `$os`, `$lib`, the event's properties, an
/// instrumented call's fields and `sample_rate`. The project API key goes in the body.
/// A 413 is split, never retried as is; 429 and 5xx are retried (honouring
/// `Retry-After`); other 4xx are not.
///
/// ```no_run
/// use telemetry_core::export::PostHog;
///
/// let posthog = PostHog::from_env("POSTHOG_API_KEY")?.endpoint("https://posthog.example.com");
/// let _guard = telemetry_core::init(telemetry_core::Config::new("shop", "1.0").sink(posthog));
/// # Ok::<(), std::io::Error>(())
/// ```
pub type PostHog = HttpExporter<PostHogApi>;

/// PostHog's rules for the [`HttpExporter`]: endpoint, event encoding with the key in
/// the body, limits.
#[derive(Debug, Clone)]
pub struct PostHogApi {
    api_key: Secret,
}

impl HttpExporter<PostHogApi> {
    /// An exporter for the project of `api_key` (the project API key, `phc_...`), on
    /// PostHog Cloud US.
    pub fn new(api_key: impl Into<String>) -> PostHog {
        HttpExporter::with_vendor(PostHogApi {
            api_key: Secret::new(api_key),
        })
    }

    /// An exporter with the project API key read from the environment variable `var`
    /// (e.g. `POSTHOG_API_KEY`); the error names the variable.
    pub fn from_env(var: &str) -> io::Result<PostHog> {
        Ok(HttpExporter::with_vendor(PostHogApi {
            api_key: Secret::from_env(var, "PostHog project API key")?,
        }))
    }

    /// Sends to PostHog Cloud EU ([`POSTHOG_EU_ENDPOINT`]).
    pub fn eu(self) -> PostHog {
        self.endpoint(POSTHOG_EU_ENDPOINT)
    }
}

impl Vendor for PostHogApi {
    fn name(&self) -> &'static str {
        "posthog"
    }

    fn default_endpoint(&self) -> String {
        POSTHOG_ENDPOINT.to_owned()
    }

    fn limits(&self) -> Limits {
        let mut limits = Limits::new(
            POSTHOG_MAX_EVENTS,
            POSTHOG_MAX_REQUEST_BYTES,
            POSTHOG_MAX_EVENT_BYTES,
        );
        limits.envelope_bytes = ENVELOPE_BYTES + self.api_key.expose().len();
        limits
    }

    fn encode(&self, record: &Record) -> Result<Vec<u8>, String> {
        let context = &record.context;
        let Some(distinct_id) = context.user_id.as_ref().or(context.anonymous_id.as_ref()) else {
            return Err("PostHog needs a user id or an anonymous id as distinct_id".into());
        };
        let mut properties = serde_json::Map::new();
        if let Some(session) = &context.session_id {
            properties.insert("$session_id".into(), session.clone().into());
        }
        if let (Some(_), Some(anonymous)) = (&context.user_id, &context.anonymous_id) {
            properties.insert("$device_id".into(), anonymous.clone().into());
        }
        properties.insert("$app_version".into(), context.app_version.clone().into());
        properties.insert("$os".into(), context.os.clone().into());
        properties.insert("$lib".into(), "telemetry-core".into());
        properties.insert("$lib_version".into(), env!("CARGO_PKG_VERSION").into());
        if let Some(locale) = &context.locale {
            properties.insert("$locale".into(), locale.clone().into());
        }
        for (key, value) in properties_json(record) {
            properties.entry(key).or_insert(value);
        }
        serde_json::to_vec(&json!({
            "event": record.name,
            "distinct_id": distinct_id,
            "properties": properties,
            "timestamp": iso_timestamp(record),
            "uuid": record.id.to_string(),
        }))
        .map_err(|e| e.to_string())
    }

    fn request(&self, endpoint: &str, events: &[Encoded<'_>]) -> Request {
        let mut body = Vec::with_capacity(
            ENVELOPE_BYTES + events.iter().map(|e| e.bytes.len() + 1).sum::<usize>(),
        );
        body.extend_from_slice(b"{\"api_key\":");
        body.extend_from_slice(json!(self.api_key.expose()).to_string().as_bytes());
        body.extend_from_slice(b",\"batch\":[");
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(event.bytes);
        }
        body.extend_from_slice(b"]}");
        Request::new(format!("{endpoint}/batch/"), "application/json", body)
    }
}

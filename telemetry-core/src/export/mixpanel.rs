//! Mixpanel, through the Import Events API (`POST /import?strict=1`).
//!
//! Each record becomes `{"event": name, "properties": {...}}` with `time` (milliseconds),
//! `distinct_id` (the user id, else the anonymous id), `$user_id` and `$device_id`
//! (simplified ID merge), `$insert_id` (the record id: a UUID string is 36 characters,
//! Mixpanel's limit, and de-duplicates retries), `$app_version_string`, `$os`,
//! `session_id`, the properties, an instrumented call's fields and `sample_rate`.
//!
//! `strict=1` makes Mixpanel validate every event: a 400 answer is a partial success,
//! the valid events are ingested and `failed_records` names the others. Those are
//! rejected (counted) and the batch is never sent again. Events whose distinct id is
//! one of the placeholders Mixpanel refuses (`anon`, `null`, the all-zero UUID, ...)
//! are rejected before sending.

use std::io;

use serde_json::{Value as Json, json};

use super::engine::{
    Answer, Encoded, HttpExporter, Limits, Request, Secret, Vendor, Verdict, basic_auth,
    encode_query, properties_json, status_reason,
};
use crate::record::Record;

/// The standard endpoint (Import Events, "Request Format").
pub const MIXPANEL_ENDPOINT: &str = "https://api.mixpanel.com";
/// The EU data residency endpoint (Import Events, "Request Format": EU residency).
pub const MIXPANEL_EU_ENDPOINT: &str = "https://api-eu.mixpanel.com";
/// Most events per request (Import Events, "Request Format": up to 2000 events).
pub const MIXPANEL_MAX_EVENTS: usize = 2000;
/// Most bytes per request, uncompressed (Import Events, "Request Format": 10 MB).
pub const MIXPANEL_MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;
/// Most bytes per event (Import Events, "Event Limits": each event under 1 MB).
pub const MIXPANEL_MAX_EVENT_BYTES: usize = 1024 * 1024 - 1;
/// Longest `$insert_id` (Import Events, "Event Deduplication": at most 36 characters).
pub const MIXPANEL_MAX_INSERT_ID: usize = 36;
/// Distinct ids Mixpanel refuses as placeholders (Import Events, "Common Issues" /
/// 400 Bad Request, "Invalid distinct_id"), compared case-insensitively.
const PLACEHOLDER_IDS: &[&str] = &[
    "anon",
    "anonymous",
    "nil",
    "none",
    "null",
    "n/a",
    "na",
    "undefined",
    "unknown",
    "<nil>",
    "0",
    "-1",
    "true",
    "false",
    "[]",
    "{}",
    "00000000-0000-0000-0000-000000000000",
];

/// The Mixpanel exporter: a [`Sink`](crate::Sink) sending to the Import Events API.
///
/// Each record becomes `{"event": name, "properties": {...}}` with `time` (milliseconds),
/// `distinct_id` (the user id, else the anonymous id), `$user_id` and `$device_id`
/// (simplified ID merge), `$insert_id` (the record id: a UUID string is 36 characters,
/// Mixpanel's limit, and de-duplicates retries), `$app_version_string`, `$os`,
/// `session_id`, the properties, an instrumented call's fields and `sample_rate`.
///
/// `strict=1` makes Mixpanel validate every event: a 400 answer is a partial success,
/// the valid events are ingested and `failed_records` names the others. Those are
/// rejected (counted) and the batch is never sent again. Events whose distinct id is
/// one of the placeholders Mixpanel refuses (`anon`, `null`, the all-zero UUID, ...)
/// are rejected before sending.
///
/// ```no_run
/// use telemetry_core::export::Mixpanel;
///
/// let mixpanel = Mixpanel::service_account("bot.1234.mp-service-account", "s3cret", "1234567")
///     .eu();
/// let _guard = telemetry_core::init(telemetry_core::Config::new("shop", "1.0").sink(mixpanel));
/// ```
pub type Mixpanel = HttpExporter<MixpanelApi>;

/// Mixpanel's rules for the [`HttpExporter`]: endpoint, authentication, event encoding,
/// limits and the partial-success answers of `/import?strict=1`.
#[derive(Debug, Clone)]
pub struct MixpanelApi {
    auth: Auth,
}

#[derive(Debug, Clone)]
enum Auth {
    /// The project token as the Basic user name, and in each event's `token`.
    Token(Secret),
    /// A service account (user name and secret) with the project id in the query.
    ServiceAccount {
        username: String,
        secret: Secret,
        project_id: String,
    },
}

impl HttpExporter<MixpanelApi> {
    /// An exporter authenticated with the project token (Import Events,
    /// "Authentication": the token as the Basic auth user name, or the legacy project
    /// API secret the same way).
    pub fn new(project_token: impl Into<String>) -> Mixpanel {
        HttpExporter::with_vendor(MixpanelApi {
            auth: Auth::Token(Secret::new(project_token)),
        })
    }

    /// An exporter with the project token read from the environment variable `var`
    /// (e.g. `MIXPANEL_TOKEN`); the error names the variable.
    pub fn from_env(var: &str) -> io::Result<Mixpanel> {
        Ok(HttpExporter::with_vendor(MixpanelApi {
            auth: Auth::Token(Secret::from_env(var, "Mixpanel project token")?),
        }))
    }

    /// An exporter authenticated with a service account (Import Events,
    /// "Authentication": Owner or Admin service account, Basic auth, `project_id` in
    /// the query).
    pub fn service_account(
        username: impl Into<String>,
        secret: impl Into<String>,
        project_id: impl Into<String>,
    ) -> Mixpanel {
        HttpExporter::with_vendor(MixpanelApi {
            auth: Auth::ServiceAccount {
                username: username.into(),
                secret: Secret::new(secret),
                project_id: project_id.into(),
            },
        })
    }

    /// Sends to the EU data residency endpoint ([`MIXPANEL_EU_ENDPOINT`]).
    pub fn eu(self) -> Mixpanel {
        self.endpoint(MIXPANEL_EU_ENDPOINT)
    }
}

impl Vendor for MixpanelApi {
    fn name(&self) -> &'static str {
        "mixpanel"
    }

    fn default_endpoint(&self) -> String {
        MIXPANEL_ENDPOINT.to_owned()
    }

    fn limits(&self) -> Limits {
        let mut limits = Limits::new(
            MIXPANEL_MAX_EVENTS,
            MIXPANEL_MAX_REQUEST_BYTES,
            MIXPANEL_MAX_EVENT_BYTES,
        );
        limits.envelope_bytes = 2;
        limits
    }

    fn encode(&self, record: &Record) -> Result<Vec<u8>, String> {
        let context = &record.context;
        let distinct_id = context
            .user_id
            .as_deref()
            .or(context.anonymous_id.as_deref())
            .unwrap_or_default();
        let lower = distinct_id.trim().to_ascii_lowercase();
        if PLACEHOLDER_IDS.contains(&lower.as_str()) {
            return Err(format!(
                "Mixpanel refuses the placeholder distinct id `{distinct_id}`; set a real user or anonymous id"
            ));
        }
        let insert_id = record.id.to_string();
        debug_assert!(insert_id.len() <= MIXPANEL_MAX_INSERT_ID);
        let mut properties = serde_json::Map::new();
        properties.insert("time".into(), record.timestamp.unix_millis().into());
        properties.insert("distinct_id".into(), distinct_id.into());
        properties.insert("$insert_id".into(), insert_id.into());
        if let Some(user) = &context.user_id {
            properties.insert("$user_id".into(), user.clone().into());
        }
        if let Some(device) = &context.anonymous_id {
            properties.insert("$device_id".into(), device.clone().into());
        }
        properties.insert(
            "$app_version_string".into(),
            context.app_version.clone().into(),
        );
        properties.insert("$os".into(), context.os.clone().into());
        if let Some(session) = &context.session_id {
            properties.insert("session_id".into(), session.clone().into());
        }
        if let Auth::Token(token) = &self.auth {
            properties.insert("token".into(), token.expose().into());
        }
        for (key, value) in properties_json(record) {
            properties.entry(key).or_insert(value);
        }
        serde_json::to_vec(&json!({"event": record.name, "properties": properties}))
            .map_err(|e| e.to_string())
    }

    fn request(&self, endpoint: &str, events: &[Encoded<'_>]) -> Request {
        let mut body =
            Vec::with_capacity(2 + events.iter().map(|e| e.bytes.len() + 1).sum::<usize>());
        body.push(b'[');
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(event.bytes);
        }
        body.push(b']');
        let (url, auth) = match &self.auth {
            Auth::Token(token) => (
                format!("{endpoint}/import?strict=1"),
                basic_auth(token.expose(), ""),
            ),
            Auth::ServiceAccount {
                username,
                secret,
                project_id,
            } => (
                format!(
                    "{endpoint}/import?strict=1&project_id={}",
                    encode_query(project_id)
                ),
                basic_auth(username, secret.expose()),
            ),
        };
        Request::new(url, "application/json", body)
            .header("authorization", auth)
            .header("accept", "application/json")
    }

    /// 2xx accepted; a 400 with `failed_records` is a partial success (the named events
    /// are rejected, the others already ingested); any other 400 fails; 413 splits;
    /// 408, 429 and 5xx are retried.
    fn verdict(&self, answer: &Answer, events: &[Encoded<'_>]) -> Verdict {
        if answer.status != 400 {
            return Verdict::from_status(answer);
        }
        let failed = serde_json::from_slice::<Json>(&answer.body)
            .ok()
            .and_then(|body| body.get("failed_records").and_then(Json::as_array).cloned())
            .unwrap_or_default();
        let mut invalid = Vec::new();
        for record in &failed {
            let by_index = record
                .get("index")
                .and_then(Json::as_u64)
                .map(|i| i as usize)
                .filter(|i| *i < events.len());
            let insert_id = record
                .get("insert_id")
                .or_else(|| record.get("$insert_id"))
                .and_then(Json::as_str);
            let index = by_index.or_else(|| {
                insert_id.and_then(|id| events.iter().position(|e| e.record.id.to_string() == id))
            });
            let Some(index) = index else { continue };
            let field = record.get("field").and_then(Json::as_str).unwrap_or("?");
            let message = record
                .get("message")
                .and_then(Json::as_str)
                .unwrap_or("invalid");
            invalid.push((index, format!("{field}: {message}")));
        }
        if invalid.is_empty() {
            return Verdict::Fail {
                reason: status_reason(answer),
            };
        }
        Verdict::Invalid {
            events: invalid,
            rest_ingested: true,
        }
    }
}

//! Google Analytics 4, through the Measurement Protocol (`POST /mp/collect`).
//!
//! A request carries one user: `client_id` is the anonymous id and `user_id` the user
//! id, so the exporter never puts events of two users in one request. Each record
//! becomes `{"name", "params", "timestamp_micros"}` with the event's properties as
//! params plus `session_id` (the session's start in seconds for the pipeline's UUID v7
//! session ids), `engagement_time_msec` (an instrumented call's duration, else 1: GA4
//! shows only engaged events in realtime reports), `app_version`, `event_id` (the
//! record id) and `sample_rate`.
//!
//! Names: GA4 event and param names are at most 40 characters, start with a letter,
//! hold only letters, digits and underscores, and must avoid reserved names and
//! prefixes. [`ga4_event_name`] maps catalog names deterministically: other characters
//! become `_` (`cart.item_added` gives `cart_item_added`), a name that starts with a
//! non-letter or a reserved prefix, or that is reserved, gets the prefix `e_` (`p_` for
//! params), and a name that is still too long is cut to 33 characters plus `_` and 6
//! hex digits of a hash of the full name. [`Ga4::new`] checks the whole catalog and
//! refuses to start when two names map to the same GA4 name or an event has more
//! params than GA4 takes.
//!
//! The collect endpoint answers 2xx even for invalid events, so every event is checked
//! before it is sent: string values longer than 100 characters are cut to 100, and an
//! event with more than 25 params is rejected (counted). GA4 has no de-duplication id:
//! a retry after a lost answer can count an event twice; the `event_id` param lets an
//! analysis (e.g. of the BigQuery export) remove such duplicates.

use std::collections::BTreeMap;
use std::io;

use serde_json::{Value as Json, json};

use super::engine::{
    Encoded, HttpExporter, Limits, Request, Secret, Vendor, encode_query, properties_json,
    session_start_millis,
};
use crate::catalog::Catalog;
use crate::record::Record;

/// The collect endpoint's host (Measurement Protocol, "Send events").
pub const GA4_ENDPOINT: &str = "https://www.google-analytics.com";
/// The EU collection host (Measurement Protocol, "Send events": EU data collection,
/// `region1.google-analytics.com`).
pub const GA4_EU_ENDPOINT: &str = "https://region1.google-analytics.com";
/// Most events per request (Measurement Protocol, "Limitations": 25 events).
pub const GA4_MAX_EVENTS: usize = 25;
/// Most params per event (Measurement Protocol, "Limitations": 25 parameters).
pub const GA4_MAX_PARAMS: usize = 25;
/// Longest event or param name (Measurement Protocol, "Limitations": 40 characters).
pub const GA4_MAX_NAME: usize = 40;
/// Longest string param value (Measurement Protocol, "Limitations": 100 characters;
/// 500 on GA4 360).
pub const GA4_MAX_PARAM_VALUE: usize = 100;
/// Most bytes per request body (Measurement Protocol, "Limitations": 130 kB).
pub const GA4_MAX_REQUEST_BYTES: usize = 130_000;
/// Params the exporter adds to every event: `session_id`, `engagement_time_msec`,
/// `app_version`, `event_id`.
const BUILTIN_PARAMS: [&str; 4] = [
    "session_id",
    "engagement_time_msec",
    "app_version",
    "event_id",
];
/// Reserved name prefixes (Measurement Protocol, "Reserved names").
const RESERVED_PREFIXES: [&str; 4] = ["_", "firebase_", "ga_", "google_"];
/// Reserved event names (Measurement Protocol, "Reserved event names").
const RESERVED_EVENTS: &[&str] = &[
    "ad_activeview",
    "ad_click",
    "ad_exposure",
    "ad_impression",
    "ad_query",
    "ad_reward",
    "adunit_exposure",
    "app_background",
    "app_clear_data",
    "app_exception",
    "app_remove",
    "app_store_refund",
    "app_store_subscription_cancel",
    "app_store_subscription_convert",
    "app_store_subscription_renew",
    "app_update",
    "app_upgrade",
    "dynamic_link_app_open",
    "dynamic_link_app_update",
    "dynamic_link_first_open",
    "error",
    "first_open",
    "first_visit",
    "in_app_purchase",
    "notification_dismiss",
    "notification_foreground",
    "notification_open",
    "notification_receive",
    "os_update",
    "session_start",
    "session_start_with_rollout",
    "user_engagement",
];
/// Bytes of the body besides the events, without the ids.
const ENVELOPE_BYTES: usize = 64;

/// The GA4 exporter: a [`Sink`](crate::Sink) sending to the Measurement Protocol.
///
/// A request carries one user: `client_id` is the anonymous id and `user_id` the user
/// id, so the exporter never puts events of two users in one request. Each record
/// becomes `{"name", "params", "timestamp_micros"}` with the event's properties as
/// params plus `session_id` (the session's start in seconds for the pipeline's UUID v7
/// session ids), `engagement_time_msec` (an instrumented call's duration, else 1: GA4
/// shows only engaged events in realtime reports), `app_version`, `event_id` (the
/// record id) and `sample_rate`.
///
/// Names: GA4 event and param names are at most 40 characters, start with a letter,
/// hold only letters, digits and underscores, and must avoid reserved names and
/// prefixes. [`ga4_event_name`] maps catalog names deterministically: other characters
/// become `_` (`cart.item_added` gives `cart_item_added`), a name that starts with a
/// non-letter or a reserved prefix, or that is reserved, gets the prefix `e_` (`p_` for
/// params), and a name that is still too long is cut to 33 characters plus `_` and 6
/// hex digits of a hash of the full name. [`Ga4::new`] checks the whole catalog and
/// refuses to start when two names map to the same GA4 name or an event has more
/// params than GA4 takes.
///
/// The collect endpoint answers 2xx even for invalid events, so every event is checked
/// before it is sent: string values longer than 100 characters are cut to 100, and an
/// event with more than 25 params is rejected (counted). GA4 has no de-duplication id:
/// a retry after a lost answer can count an event twice; the `event_id` param lets an
/// analysis (e.g. of the BigQuery export) remove such duplicates.
///
/// ```no_run
/// use telemetry_core::export::Ga4;
///
/// let ga4 = Ga4::new("G-XXXXXXX", "api-secret")?;
/// let _guard = telemetry_core::init(telemetry_core::Config::new("shop", "1.0").sink(ga4));
/// # Ok::<(), std::io::Error>(())
/// ```
pub type Ga4 = HttpExporter<Ga4Api>;

/// GA4's rules for the [`HttpExporter`]: endpoint, name mapping, validation, limits.
#[derive(Debug, Clone)]
pub struct Ga4Api {
    measurement_id: String,
    api_secret: Secret,
}

impl HttpExporter<Ga4Api> {
    /// An exporter for the web stream `measurement_id` (`G-...`) with a Measurement
    /// Protocol API secret, after checking this program's catalog
    /// ([`check_ga4_catalog`]): the error names the colliding events or properties.
    pub fn new(
        measurement_id: impl Into<String>,
        api_secret: impl Into<String>,
    ) -> io::Result<Ga4> {
        check_ga4_catalog(&crate::catalog())?;
        Ok(HttpExporter::with_vendor(Ga4Api {
            measurement_id: measurement_id.into(),
            api_secret: Secret::new(api_secret),
        }))
    }

    /// [`Ga4::new`] with the measurement id and the API secret read from two
    /// environment variables (e.g. `GA4_MEASUREMENT_ID`, `GA4_API_SECRET`).
    pub fn from_env(measurement_id_var: &str, api_secret_var: &str) -> io::Result<Ga4> {
        let measurement_id = Secret::from_env(measurement_id_var, "GA4 measurement id")?;
        let api_secret = Secret::from_env(api_secret_var, "GA4 Measurement Protocol API secret")?;
        HttpExporter::<Ga4Api>::new(measurement_id.expose(), api_secret.expose())
    }

    /// Sends to the EU collection endpoint ([`GA4_EU_ENDPOINT`]).
    pub fn eu(self) -> Ga4 {
        self.endpoint(GA4_EU_ENDPOINT)
    }
}

/// The GA4 event name for a catalog event name (see [`Ga4`] for the rules).
pub fn ga4_event_name(name: &str) -> String {
    ga4_name(name, "e_", RESERVED_EVENTS)
}

/// The GA4 param name for a property name (see [`Ga4`] for the rules).
pub fn ga4_param_name(name: &str) -> String {
    ga4_name(name, "p_", &[])
}

fn ga4_name(name: &str, prefix: &str, reserved: &[&str]) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let lower = out.to_ascii_lowercase();
    let starts_with_letter = out.starts_with(|c: char| c.is_ascii_alphabetic());
    if !starts_with_letter
        || RESERVED_PREFIXES.iter().any(|p| lower.starts_with(p))
        || reserved.contains(&lower.as_str())
    {
        out.insert_str(0, prefix);
    }
    if out.len() > GA4_MAX_NAME {
        // FNV-1a over the original name: stable across runs and platforms.
        let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        out.truncate(GA4_MAX_NAME - 7);
        out.push_str(&format!("_{:06x}", hash & 0x00ff_ffff));
    }
    out
}

/// Checks that a catalog maps onto GA4: no two events (and no two properties of an
/// event, or a property and a param the exporter adds) get the same GA4 name, and no
/// event has more params than GA4 takes. The error lists every problem.
pub fn check_ga4_catalog(catalog: &Catalog) -> io::Result<()> {
    let mut problems = Vec::new();
    let mut names: BTreeMap<String, &str> = BTreeMap::new();
    for event in &catalog.events {
        let schema = &event.schema;
        let mapped = ga4_event_name(&schema.name);
        match names.get(&mapped) {
            Some(other) if *other != &*schema.name => problems.push(format!(
                "events `{other}` and `{}` both become the GA4 event `{mapped}`",
                schema.name
            )),
            _ => {
                names.insert(mapped, &schema.name);
            }
        }
        let mut params: BTreeMap<String, &str> =
            BUILTIN_PARAMS.iter().map(|p| (p.to_string(), *p)).collect();
        for property in schema.properties.iter() {
            let mapped = ga4_param_name(&property.name);
            if let Some(other) = params.get(&mapped) {
                problems.push(format!(
                    "in event `{}`, property `{}` and {} both become the GA4 param `{mapped}`",
                    schema.name,
                    property.name,
                    if BUILTIN_PARAMS.contains(other) {
                        format!("the exporter's own param `{other}`")
                    } else {
                        format!("property `{other}`")
                    }
                ));
            } else {
                params.insert(mapped, &property.name);
            }
        }
        if params.len() > GA4_MAX_PARAMS {
            problems.push(format!(
                "event `{}` has {} params with the exporter's {}, GA4 takes at most {GA4_MAX_PARAMS}",
                schema.name,
                params.len(),
                BUILTIN_PARAMS.len()
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the catalog does not map onto GA4: {}; rename the events or properties",
                problems.join("; ")
            ),
        ))
    }
}

/// A param value GA4 accepts: numbers as they are, strings cut to 100 characters,
/// booleans as `"true"`/`"false"`.
fn param_value(value: Json) -> Json {
    match value {
        Json::String(s) => match s.char_indices().nth(GA4_MAX_PARAM_VALUE) {
            Some((cut, _)) => Json::String(s[..cut].to_owned()),
            None => Json::String(s),
        },
        Json::Bool(b) => Json::String(b.to_string()),
        Json::Null => Json::String(String::new()),
        other => other,
    }
}

impl Vendor for Ga4Api {
    fn name(&self) -> &'static str {
        "ga4"
    }

    fn default_endpoint(&self) -> String {
        GA4_ENDPOINT.to_owned()
    }

    fn limits(&self) -> Limits {
        let mut limits = Limits::new(
            GA4_MAX_EVENTS,
            GA4_MAX_REQUEST_BYTES,
            GA4_MAX_REQUEST_BYTES - ENVELOPE_BYTES - 2 * 256,
        );
        limits.envelope_bytes = ENVELOPE_BYTES + 2 * 256;
        limits
    }

    fn encode(&self, record: &Record) -> Result<Vec<u8>, String> {
        let context = &record.context;
        if context.anonymous_id.is_none() {
            return Err("GA4 needs an anonymous id as client_id".into());
        }
        let mut params = serde_json::Map::new();
        for (key, value) in properties_json(record) {
            params.insert(ga4_param_name(&key), param_value(value));
        }
        if let Some(session) = &context.session_id {
            let id = match session_start_millis(session) {
                Some(millis) => (millis / 1000).to_string(),
                None => session.clone(),
            };
            params.insert("session_id".into(), param_value(id.into()));
        }
        let engaged = record
            .call
            .as_ref()
            .map_or(1, |c| (c.duration_ms.round() as u64).max(1));
        params.insert("engagement_time_msec".into(), engaged.into());
        params.insert(
            "app_version".into(),
            param_value(context.app_version.clone().into()),
        );
        params.insert("event_id".into(), record.id.to_string().into());
        if params.len() > GA4_MAX_PARAMS {
            return Err(format!(
                "{} params, GA4 takes at most {GA4_MAX_PARAMS} per event",
                params.len()
            ));
        }
        serde_json::to_vec(&json!({
            "name": ga4_event_name(&record.name),
            "params": params,
            "timestamp_micros": record.timestamp.unix_millis() * 1000,
        }))
        .map_err(|e| e.to_string())
    }

    /// A request carries one `client_id` and `user_id`.
    fn same_request(&self, first: &Record, record: &Record) -> bool {
        first.context.anonymous_id == record.context.anonymous_id
            && first.context.user_id == record.context.user_id
    }

    fn request(&self, endpoint: &str, events: &[Encoded<'_>]) -> Request {
        let context = events.first().map(|e| &e.record.context);
        let mut body = Vec::with_capacity(
            ENVELOPE_BYTES + events.iter().map(|e| e.bytes.len() + 1).sum::<usize>(),
        );
        body.extend_from_slice(b"{\"client_id\":");
        let client_id = context.and_then(|c| c.anonymous_id.clone());
        body.extend_from_slice(json!(client_id).to_string().as_bytes());
        if let Some(user) = context.and_then(|c| c.user_id.as_ref()) {
            body.extend_from_slice(b",\"user_id\":");
            body.extend_from_slice(json!(user).to_string().as_bytes());
        }
        body.extend_from_slice(b",\"events\":[");
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(event.bytes);
        }
        body.extend_from_slice(b"]}");
        let url = format!(
            "{endpoint}/mp/collect?measurement_id={}&api_secret={}",
            encode_query(&self.measurement_id),
            encode_query(self.api_secret.expose())
        );
        Request::new(url, "application/json", body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_names_map_to_valid_ga4_names() {
        assert_eq!(ga4_event_name("cart.item_added"), "cart_item_added");
        assert_eq!(ga4_event_name("checkout-started v2"), "checkout_started_v2");
        assert_eq!(ga4_event_name("error"), "e_error");
        assert_eq!(ga4_event_name("session_start"), "e_session_start");
        assert_eq!(ga4_event_name("google_pay.done"), "e_google_pay_done");
        assert_eq!(ga4_event_name("_internal"), "e__internal");
        assert_eq!(ga4_event_name("3d.view"), "e_3d_view");
        assert_eq!(ga4_param_name("firebase_x"), "p_firebase_x");
        let long = "ordering.restaurant_menu.section.item_details_viewed";
        let mapped = ga4_event_name(long);
        assert_eq!(mapped.len(), GA4_MAX_NAME);
        assert!(mapped.starts_with("ordering_restaurant_menu_section_"));
        // Stable, and different for names that share the first 33 characters.
        assert_eq!(mapped, ga4_event_name(long));
        assert_ne!(
            mapped,
            ga4_event_name("ordering.restaurant_menu.section.item_details_closed")
        );
        for name in [long, "cart.item_added", "error", "3d.view"] {
            let m = ga4_event_name(name);
            assert!(m.len() <= GA4_MAX_NAME);
            assert!(m.starts_with(|c: char| c.is_ascii_alphabetic()));
            assert!(m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        }
    }

    fn catalog(events: Json) -> Catalog {
        let events: Vec<Json> = events
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let properties: Vec<Json> = e["properties"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        json!({"name": p, "type": "integer", "rust_type": "u64",
                               "optional": false, "pii": "none", "description": "A value."})
                    })
                    .collect();
                json!({"name": e["name"], "version": 1, "description": "An event.",
                       "category": "test", "owner": "growth", "rust_type": "T",
                       "properties": properties, "call_sites": []})
            })
            .collect();
        serde_json::from_value(json!({"format": 1, "events": events})).unwrap()
    }

    #[test]
    fn the_catalog_check_reports_every_collision() {
        let fine = catalog(json!([
            {"name": "cart.item_added", "properties": ["dish_id", "price.cents"]},
            {"name": "checkout.started", "properties": []},
        ]));
        assert!(check_ga4_catalog(&fine).is_ok());

        let many: Vec<String> = (0..22).map(|i| format!("p{i}")).collect();
        let bad = catalog(json!([
            {"name": "cart.item_added", "properties": ["dish.id", "dish_id"]},
            {"name": "cart_item_added", "properties": ["session_id"]},
            {"name": "wide.event", "properties": many},
        ]));
        let error = check_ga4_catalog(&bad).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        let text = error.to_string();
        for part in [
            "events `cart.item_added` and `cart_item_added` both become the GA4 event `cart_item_added`",
            "in event `cart.item_added`, property `dish_id` and property `dish.id` both become the GA4 param `dish_id`",
            "in event `cart_item_added`, property `session_id` and the exporter's own param `session_id`",
            "event `wide.event` has 26 params",
        ] {
            assert!(text.contains(part), "missing `{part}` in: {text}");
        }
    }

    #[test]
    fn long_strings_are_cut_to_the_param_value_limit() {
        let value = param_value(Json::String("é".repeat(150)));
        assert_eq!(value.as_str().unwrap().chars().count(), GA4_MAX_PARAM_VALUE);
        assert_eq!(param_value(Json::Bool(true)), json!("true"));
        assert_eq!(param_value(json!(12.5)), json!(12.5));
    }
}

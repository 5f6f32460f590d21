//! Funnels defined at design time with `funnel!`: an ordered list of events that users
//! go through (search, menu, cart, checkout, payment), registered in the catalog like
//! events so that `telemetry report` computes them without further arguments.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::schema::{EventSchema, Str};

/// Registered by `funnel!`.
#[doc(hidden)]
pub struct FunnelRegistration {
    pub name: &'static str,
    pub description: &'static str,
    pub owner: &'static str,
    pub window: &'static str,
    pub steps: &'static [StepRegistration],
}

/// One step of a registered funnel: the event type (through its schema, so that a
/// renamed event renames the step) and the property filters.
#[doc(hidden)]
pub struct StepRegistration {
    pub schema: fn() -> &'static EventSchema,
    pub filters: &'static [StepFilter],
}

inventory::collect!(FunnelRegistration);

/// A funnel of the catalog: users who did each step in order, within `window` of the
/// first step.
///
/// ```json
/// {"name": "ordering", "description": "From searching to a paid order.", "owner": "growth",
///  "window": "1d", "steps": [{"event": "search.performed"},
///  {"event": "payment.completed", "filters": [{"property": "method", "equals": "upi"}]}]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Funnel {
    /// Funnel name, lowercase `snake_case` (e.g. `ordering`).
    pub name: Str,
    /// What the funnel measures, from the `funnel!` doc comment.
    pub description: Str,
    /// Team accountable for the funnel; may be empty.
    #[serde(default)]
    pub owner: Str,
    /// Conversion window: how long after the first step the last one may happen, as
    /// a number and a unit, `s`, `m`, `h`, `d` or `w` (e.g. `30m`, `1d`). See
    /// [`parse_window`].
    pub window: Str,
    /// The steps, in order; at least two.
    pub steps: Vec<FunnelStep>,
}

/// One step of a [`Funnel`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunnelStep {
    /// The event's catalog name.
    pub event: Str,
    /// Property filters, all of which a record must match to count as this step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<StepFilter>,
}

impl FunnelStep {
    /// A step on `event` with `filters`.
    pub fn new(event: impl Into<Str>, filters: Vec<StepFilter>) -> FunnelStep {
        FunnelStep {
            event: event.into(),
            filters,
        }
    }
}

/// `property = value`: a record matches when its property equals the value (enum
/// properties compare their string value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StepFilter {
    /// Property name as written in records.
    pub property: Str,
    /// The value it must have.
    pub equals: FilterValue,
}

impl StepFilter {
    /// A filter; used by generated code.
    #[doc(hidden)]
    pub const fn new_static(property: &'static str, equals: FilterValue) -> StepFilter {
        StepFilter {
            property: Cow::Borrowed(property),
            equals,
        }
    }

    /// A filter read from a command line or a file.
    pub fn new(property: impl Into<Str>, equals: FilterValue) -> StepFilter {
        StepFilter {
            property: property.into(),
            equals,
        }
    }
}

/// The literal a [`StepFilter`] compares with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FilterValue {
    /// `true` or `false`.
    Boolean(bool),
    /// A whole number.
    Integer(i64),
    /// A string, or an enum property's value.
    String(Str),
}

impl FilterValue {
    /// A string value; used by generated code.
    #[doc(hidden)]
    pub const fn str(value: &'static str) -> FilterValue {
        FilterValue::String(Cow::Borrowed(value))
    }

    /// The catalog type this value fits.
    pub fn property_type(&self) -> crate::schema::PropertyType {
        use crate::schema::PropertyType;
        match self {
            FilterValue::Boolean(_) => PropertyType::Boolean,
            FilterValue::Integer(_) => PropertyType::Integer,
            FilterValue::String(_) => PropertyType::String,
        }
    }
}

impl std::fmt::Display for FilterValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FilterValue::Boolean(b) => write!(f, "{b}"),
            FilterValue::Integer(i) => write!(f, "{i}"),
            FilterValue::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl Funnel {
    pub(crate) fn from_registration(reg: &FunnelRegistration) -> Funnel {
        Funnel {
            name: Cow::Borrowed(reg.name),
            description: Cow::Borrowed(reg.description),
            owner: Cow::Borrowed(reg.owner),
            window: Cow::Borrowed(reg.window),
            steps: reg
                .steps
                .iter()
                .map(|s| FunnelStep {
                    event: (s.schema)().name.clone(),
                    filters: s.filters.to_vec(),
                })
                .collect(),
        }
    }

    /// The conversion window, if [`Funnel::window`] is valid.
    pub fn window_duration(&self) -> Option<Duration> {
        parse_window(&self.window).ok()
    }
}

/// Reads a conversion window: a positive whole number followed by `s`, `m`, `h`, `d`
/// or `w` (`90s`, `30m`, `2h`, `1d`, `1w`).
///
/// ```
/// use std::time::Duration;
/// use telemetry_core::catalog::parse_window;
/// assert_eq!(parse_window("30m"), Ok(Duration::from_secs(1800)));
/// assert!(parse_window("1 day").is_err());
/// ```
pub fn parse_window(window: &str) -> Result<Duration, String> {
    crate::naming::parse_window_seconds(window).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        assert_eq!(parse_window("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_window("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_window("2w"), Ok(Duration::from_secs(14 * 86_400)));
        for bad in ["", "d", "0d", "1", "1y", "1.5h", "-1d", " 1d"] {
            assert!(parse_window(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validate_reports_funnels_that_cannot_be_computed() {
        let json = r#"{"format": 1, "events": [
          {"name": "search.performed", "version": 1, "description": "A search.", "category": "", "owner": "o",
           "rust_type": "S", "properties": [], "call_sites": [], "active": true},
          {"name": "payment.completed", "version": 1, "description": "Paid.", "category": "", "owner": "o",
           "rust_type": "P", "call_sites": [], "properties": [
             {"name": "method", "type": "string", "rust_type": "M", "optional": false, "pii": "none",
              "description": "", "values": ["card", "upi"]},
             {"name": "email", "type": "string", "rust_type": "String", "optional": false, "pii": "hash",
              "description": ""}]}],
          "funnels": [
            {"name": "ok", "description": "Fine.", "window": "1d", "steps": [
              {"event": "search.performed"}, {"event": "payment.completed", "filters": [{"property": "method", "equals": "upi"}]}]},
            {"name": "Bad", "description": "", "window": "1 day", "steps": [
              {"event": "search.performd"},
              {"event": "payment.completed", "filters": [
                {"property": "methd", "equals": "upi"}, {"property": "method", "equals": 3},
                {"property": "method", "equals": "cash"}, {"property": "email", "equals": "a@b.c"}]}]}]}"#;
        let catalog = crate::Catalog::from_json(json).unwrap();
        assert!(catalog.events[0].schema.active && !catalog.events[1].schema.active);
        let messages: Vec<String> = catalog
            .validate()
            .into_iter()
            .filter(|p| p.kind.id() == "invalid-funnel")
            .map(|p| {
                assert_eq!(p.event, "Bad");
                p.message
            })
            .collect();
        let expected = [
            "snake_case",
            "no description",
            "window `1 day`",
            "`search.performd`, which is not in the catalog",
            "`payment.completed.methd`, which has no such property (properties: method, email)",
            "compares `payment.completed.method` (string) with 3 (integer)",
            "\"cash\", which is not one of its values (card, upi)",
            "`payment.completed.email`, which is personal data (hash)",
        ];
        assert_eq!(messages.len(), expected.len(), "{messages:#?}");
        for (message, part) in messages.iter().zip(expected) {
            assert!(message.contains(part), "{message} / {part}");
        }
        // A catalog file without funnels reads back, and writes no `funnels` key.
        let old = r#"{"format": 1, "events": []}"#;
        let catalog = crate::Catalog::from_json(old).unwrap();
        assert!(catalog.funnels.is_empty() && !catalog.to_json().contains("funnels"));
    }

    #[test]
    fn funnel_json_shape() {
        let funnel = Funnel {
            name: "ordering".into(),
            description: "d".into(),
            owner: String::new().into(),
            window: "1d".into(),
            steps: vec![
                FunnelStep::new("a.b", vec![]),
                FunnelStep::new(
                    "c.d",
                    vec![StepFilter::new("method", FilterValue::str("upi"))],
                ),
            ],
        };
        let json = serde_json::to_string(&funnel).unwrap();
        assert_eq!(
            json,
            r#"{"name":"ordering","description":"d","owner":"","window":"1d","steps":[{"event":"a.b"},{"event":"c.d","filters":[{"property":"method","equals":"upi"}]}]}"#
        );
        assert_eq!(serde_json::from_str::<Funnel>(&json).unwrap(), funnel);
    }
}

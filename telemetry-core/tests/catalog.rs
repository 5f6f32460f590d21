//! The catalog of this test binary, its file format and its validation.

use telemetry_core::catalog::{Catalog, ProblemKind, Severity};
use telemetry_core::{Pii, PropertyType, TelemetryEvent, TelemetryProperty, emit};

/// A dish was rated after delivery.
///
/// Sent once per rating; editing a rating sends it again.
#[derive(TelemetryEvent)]
#[telemetry(
    name = "dish.rated",
    category = "feedback",
    owner = "quality",
    version = 3
)]
pub struct DishRated {
    /// Stars, 1 to 5.
    pub stars: u8,
    /// Free-text review.
    #[telemetry(pii = "redact", rename = "review_text")]
    pub review: Option<String>,
    /// Where the rating was given.
    pub surface: Surface,
}

/// Where a rating was given.
#[derive(TelemetryProperty)]
#[telemetry(rename_all = "kebab-case")]
pub enum Surface {
    /// The order tracking page.
    OrderPage,
    /// A push notification.
    #[telemetry(rename = "push")]
    Notification,
}

/// Defined but never sent anywhere.
#[derive(TelemetryEvent)]
#[telemetry(name = "legacy.unused")]
pub struct LegacyUnused;

#[allow(dead_code)] // never called: its call site is still in the catalog
fn rate() {
    emit!(DishRated {
        stars: 5,
        review: None,
        surface: Surface::OrderPage
    });
}

#[test]
fn schema_and_call_sites_come_from_the_code() {
    let catalog = telemetry_core::catalog();
    let event = catalog
        .event("dish.rated")
        .expect("registered by the derive");
    let s = &event.schema;
    assert_eq!(s.version, 3);
    assert_eq!(
        s.description,
        "A dish was rated after delivery.\n\nSent once per rating; editing a rating sends it again."
    );
    assert_eq!((&*s.category, &*s.owner), ("feedback", "quality"));
    assert_eq!(s.rust_type, "catalog::DishRated");

    let review = s.property("review_text").unwrap();
    assert_eq!(
        (review.ty, review.optional, review.pii),
        (PropertyType::String, true, Pii::Redact)
    );
    assert_eq!(review.rust_type, "Option<String>");
    let surface = s.property("surface").unwrap();
    assert_eq!(surface.values.as_ref(), ["order-page", "push"]);
    assert_eq!(surface.description, "Where the rating was given.");
    assert_eq!(s.property("stars").unwrap().ty, PropertyType::Integer);

    let line = include_str!("catalog.rs")
        .lines()
        .position(|l| l.contains("emit!(DishRated {"))
        .unwrap() as u32
        + 1;
    assert_eq!(event.call_sites.len(), 1);
    let site = &event.call_sites[0];
    assert!(site.file.ends_with("tests/catalog.rs"), "{site:?}");
    assert_eq!((site.line, &*site.module_path), (line, "catalog"));

    assert!(DishRated::schema() == &s.clone());
}

#[test]
fn catalog_file_round_trips_and_is_sorted() {
    let catalog = telemetry_core::catalog();
    let names: Vec<&str> = catalog.events.iter().map(|e| &*e.schema.name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let json = catalog.to_json();
    assert!(
        json.starts_with("{\n  \"format\": 1,\n  \"events\": ["),
        "{json}"
    );
    assert!(json.ends_with("}\n"));
    let back = Catalog::from_json(&json).unwrap();
    assert_eq!(back, catalog);
    assert_eq!(back.to_json(), json, "writing is deterministic");
}

#[test]
fn validate_reports_never_emitted_events() {
    let problems = telemetry_core::catalog().validate();
    let never: Vec<_> = problems
        .iter()
        .filter(|p| p.kind == ProblemKind::NeverEmitted)
        .map(|p| p.event.as_str())
        .collect();
    assert_eq!(never, ["legacy.unused"]);
    let missing_owner: Vec<_> = problems
        .iter()
        .filter(|p| p.kind == ProblemKind::MissingOwner)
        .map(|p| p.event.as_str())
        .collect();
    assert_eq!(missing_owner, ["legacy.unused"]);
    assert!(problems.iter().all(|p| p.severity() == Severity::Warning));
}

fn event_json(name: &str, rust_type: &str, owner: &str, property: &str) -> String {
    format!(
        r#"{{"name": "{name}", "version": 1, "description": "d", "category": "", "owner": "{owner}",
            "rust_type": "{rust_type}",
            "properties": [{{"name": "{property}", "type": "integer", "rust_type": "u32",
                             "optional": false, "pii": "none", "description": ""}}],
            "call_sites": [{{"file": "src/main.rs", "line": 1, "column": 1, "module_path": "app"}}]}}"#
    )
}

#[test]
fn validate_reports_clashes_and_bad_names_in_catalog_files() {
    let events = [
        event_json("cart.added", "a::CartAdded", "growth", "qty"),
        event_json("cart.added", "b::CartAdded", "growth", "qty"),
        event_json("Cart.Viewed", "a::CartViewed", "growth", "qty"),
        event_json("cart.viewed", "b::CartViewed", "growth", "qty"),
        event_json("checkout", "a::Checkout", "", "itemCount"),
        event_json("user.signed_in", "a::SignedIn", "identity", "email"),
    ];
    let json = format!(r#"{{"format": 1, "events": [{}]}}"#, events.join(","));
    let problems = Catalog::from_json(&json).unwrap().validate();
    let kinds: Vec<(ProblemKind, &str)> = problems
        .iter()
        .map(|p| (p.kind, p.event.as_str()))
        .collect();
    for expected in [
        (ProblemKind::DuplicateName, "cart.added"),
        (ProblemKind::CaseClash, "Cart.Viewed"),
        (ProblemKind::InvalidName, "Cart.Viewed"),
        (ProblemKind::InvalidName, "checkout"),
        (ProblemKind::MissingOwner, "checkout"),
        (ProblemKind::UndeclaredPii, "user.signed_in"),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} not in {kinds:?}");
    }
    // Errors sort before warnings, and every message says what to do.
    assert_eq!(problems.first().unwrap().severity(), Severity::Error);
    assert_eq!(problems.last().unwrap().severity(), Severity::Warning);
    let dup = problems
        .iter()
        .find(|p| p.kind == ProblemKind::DuplicateName)
        .unwrap();
    assert!(
        dup.to_string().contains("a::CartAdded") && dup.to_string().contains("b::CartAdded"),
        "{dup}"
    );
    let prop = problems
        .iter()
        .find(|p| p.kind == ProblemKind::InvalidName && p.message.contains("itemCount"))
        .expect("property names are checked too");
    assert!(prop.message.contains("item_count"), "{prop}");
}

#[test]
fn malformed_catalog_files_get_a_clear_error() {
    let err = Catalog::from_json(r#"{"format": 1, "events": [{"name": 3}]}"#).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("not a valid catalog file") && msg.contains("line 1"),
        "{msg}"
    );
}

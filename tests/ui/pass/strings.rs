// `String`, `&'a str` and `Cow<'a, str>` are string properties.
use std::borrow::Cow;

use telemetry_core::{emit, testing, PropertyType, TelemetryEvent};

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed<'a> {
    /// What was typed.
    query: String,
    /// Where the search box was.
    screen: &'a str,
    /// Suggested correction.
    correction: Cow<'a, str>,
}

fn main() {
    let screen = String::from("home");
    let events = testing::capture(|| {
        emit!(SearchPerformed {
            query: "pizza".to_owned(),
            screen: &screen,
            correction: Cow::Borrowed("pizza"),
        });
        emit!(SearchPerformed {
            query: String::new(),
            screen: "menu",
            correction: Cow::Owned("sushi".to_owned()),
        });
    });
    assert_eq!(events[0]["screen"], "home");
    assert_eq!(events[1]["correction"], "sushi");
    let schema = SearchPerformed::schema();
    assert!(schema.properties.iter().all(|p| p.ty == PropertyType::String));
    assert_eq!(schema.property("screen").unwrap().rust_type, "&'a str");
    assert_eq!(schema.property("correction").unwrap().rust_type, "Cow<'a, str>");
}

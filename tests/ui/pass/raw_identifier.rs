// A raw identifier field: the property name has no `r#`.
use telemetry_core::{emit, testing, TelemetryEvent, TelemetryProperty};

/// Kind of dish.
#[derive(TelemetryProperty)]
enum Kind {
    Main,
    r#Dessert,
}

/// A dish was added.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added")]
struct CartItemAdded {
    /// Kind of dish.
    r#type: Kind,
    /// Whether it is a box.
    r#box: bool,
}

fn main() {
    let events = testing::capture(|| {
        emit!(CartItemAdded { r#type: Kind::r#Dessert, r#box: true });
    });
    assert_eq!(events[0]["type"], "dessert");
    assert_eq!(events[0]["box"], true);
    assert_eq!(CartItemAdded::schema().properties[0].name, "type");
    let _ = Kind::Main;
}

// Multi-line doc comments, on the event and on fields, become the descriptions.
use telemetry_core::{emit, testing, TelemetryEvent};

/// A customer added a dish to the cart.
///
/// Sent once per tap on "Add", also for a dish already in the cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added")]
struct CartItemAdded {
    /// Price of one portion,
    /// in cents.
    price_cents: u32,
    #[doc = "Written as an attribute."]
    quantity: u8,
}

fn main() {
    let events = testing::capture(|| emit!(CartItemAdded { price_cents: 1, quantity: 2 }));
    let schema = events[0].schema();
    assert_eq!(
        schema.description,
        "A customer added a dish to the cart.\n\nSent once per tap on \"Add\", also for a dish already in the cart."
    );
    assert_eq!(schema.properties[0].description, "Price of one portion, in cents.");
    assert_eq!(schema.properties[1].description, "Written as an attribute.");
}

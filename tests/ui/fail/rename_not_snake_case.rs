// A property is renamed to camelCase; property names are snake_case.
use telemetry_core::TelemetryEvent;

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added")]
struct CartItemAdded {
    /// Price of one portion, in cents.
    #[telemetry(rename = "priceCents")]
    price: u32,
}

fn main() {
    let _ = CartItemAdded { price: 1 };
}

// Two fields end up with the same property name after `rename`.
use telemetry_core::TelemetryEvent;

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added")]
struct CartItemAdded {
    /// Price of one portion, in cents.
    price_cents: u32,
    /// Price after the discount, in cents.
    #[telemetry(rename = "price_cents")]
    discounted_price: u32,
}

fn main() {
    let _ = CartItemAdded { price_cents: 1, discounted_price: 2 };
}

// `rename` is misspelled `renmae` on a field.
use telemetry_core::TelemetryEvent;

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added")]
struct CartItemAdded {
    /// Price of one portion, in cents.
    #[telemetry(renmae = "price_cents")]
    price: u32,
}

fn main() {
    let _ = CartItemAdded { price: 1 };
}

// `name` is misspelled `nmae` on the struct.
use telemetry_core::TelemetryEvent;

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(nmae = "cart.item_added")]
struct CartItemAdded;

fn main() {
    let _ = CartItemAdded;
}

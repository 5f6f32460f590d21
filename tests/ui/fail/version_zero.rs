// Versions start at 1.
use telemetry_core::TelemetryEvent;

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added", version = 0)]
struct CartItemAdded;

fn main() {
    let _ = CartItemAdded;
}

// `version` is given as a string; it takes an integer literal.
use telemetry_core::TelemetryEvent;

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added", version = "2")]
struct CartItemAdded;

fn main() {
    let _ = CartItemAdded;
}

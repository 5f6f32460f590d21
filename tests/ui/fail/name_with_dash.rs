// The event name uses `-`; segments use `_` between words.
use telemetry_core::TelemetryEvent;

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item-added")]
struct CartItemAdded;

fn main() {
    let _ = CartItemAdded;
}

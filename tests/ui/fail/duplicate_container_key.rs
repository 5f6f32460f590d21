// `owner` is given twice, once in each of two attributes.
use telemetry_core::TelemetryEvent;

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added", owner = "growth")]
#[telemetry(owner = "ordering")]
struct CartItemAdded;

fn main() {
    let _ = CartItemAdded;
}

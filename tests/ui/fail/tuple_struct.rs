// An event with unnamed (tuple) fields: properties need names.
use telemetry_core::TelemetryEvent;

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added")]
struct CartItemAdded(u64, u32);

fn main() {
    let _ = CartItemAdded(1, 2);
}

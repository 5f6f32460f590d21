// `owner = ""`: an empty owner; name the team or leave `owner` out.
use telemetry_core::TelemetryEvent;

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added", owner = "")]
struct CartItemAdded;

fn main() {
    let _ = CartItemAdded;
}

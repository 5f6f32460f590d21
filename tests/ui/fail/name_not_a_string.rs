// `name` is given a number instead of a string literal.
use telemetry_core::TelemetryEvent;

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(name = 5)]
struct CartItemAdded;

fn main() {
    let _ = CartItemAdded;
}

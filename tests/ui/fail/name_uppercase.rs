// The event name has uppercase letters; names are lowercase `object.action`.
use telemetry_core::TelemetryEvent;

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(name = "Cart.Added")]
struct CartAdded;

fn main() {
    let _ = CartAdded;
}

// The `#[telemetry(...)]` attribute has no `name`.
use telemetry_core::TelemetryEvent;

/// A customer added a dish to the cart.
#[derive(TelemetryEvent)]
#[telemetry(category = "ordering", owner = "growth")]
struct CartItemAdded {
    /// Dish added.
    dish_id: u64,
}

fn main() {
    let _ = CartItemAdded { dish_id: 1 };
}

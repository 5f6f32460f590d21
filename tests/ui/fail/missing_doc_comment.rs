// The event has no doc comment: it is the event's description in the catalog, and
// the derive requires it.
use telemetry_core::TelemetryEvent;

#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added")]
struct CartItemAdded {
    /// Dish added.
    dish_id: u64,
}

fn main() {
    let _ = CartItemAdded { dish_id: 1 };
}

// A field is a `Vec<String>`: collections are not properties.
use telemetry_core::TelemetryEvent;

/// A customer placed an order.
#[derive(TelemetryEvent)]
#[telemetry(name = "order.placed")]
struct OrderPlaced {
    /// Dishes in the order.
    dishes: Vec<String>,
}

fn main() {
    let _ = OrderPlaced { dishes: Vec::new() };
}

// A field is a user-defined struct: events are flat, nested structs are not properties.
use telemetry_core::TelemetryEvent;

struct Address {
    city: String,
}

/// A customer placed an order.
#[derive(TelemetryEvent)]
#[telemetry(name = "order.placed")]
struct OrderPlaced {
    /// Where to deliver.
    address: Address,
}

fn main() {
    let o = OrderPlaced {
        address: Address { city: "Pune".into() },
    };
    let _ = o.address.city;
}

// A field's enum type forgot `#[derive(TelemetryProperty)]`.
use telemetry_core::TelemetryEvent;

/// How the order is paid.
enum PaymentMethod {
    Card,
    Cash,
}

/// A customer placed an order.
#[derive(TelemetryEvent)]
#[telemetry(name = "order.placed")]
struct OrderPlaced {
    /// How the customer pays.
    method: PaymentMethod,
}

fn main() {
    let _ = OrderPlaced { method: PaymentMethod::Card };
    let _ = PaymentMethod::Cash;
}

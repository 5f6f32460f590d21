// A mistake in a property enum (`rename_all = "camel"`), which an event then uses as a
// field type: only the enum's error is reported, not one at the event's field.
use telemetry_core::{emit, TelemetryEvent, TelemetryProperty};

#[derive(TelemetryProperty)]
#[telemetry(rename_all = "camel")]
enum PaymentMethod {
    Card,
    CashOnDelivery,
}

/// A customer placed an order.
#[derive(TelemetryEvent)]
#[telemetry(name = "order.placed")]
struct OrderPlaced {
    /// How the customer pays.
    method: PaymentMethod,
    /// Same, if it was changed.
    changed_to: Option<PaymentMethod>,
}

fn main() {
    emit!(OrderPlaced { method: PaymentMethod::Card, changed_to: None });
    let _ = PaymentMethod::CashOnDelivery;
}

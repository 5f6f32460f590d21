// A property enum has a variant with fields: property values are plain strings.
use telemetry_core::TelemetryProperty;

#[derive(TelemetryProperty)]
enum PaymentMethod {
    Card,
    Voucher(String),
}

fn main() {
    let _ = (PaymentMethod::Card, PaymentMethod::Voucher(String::new()));
}

// A variant is renamed to the empty string.
use telemetry_core::TelemetryProperty;

#[derive(TelemetryProperty)]
enum PaymentMethod {
    Card,
    #[telemetry(rename = "")]
    Cash,
}

fn main() {
    let _ = (PaymentMethod::Card, PaymentMethod::Cash);
}

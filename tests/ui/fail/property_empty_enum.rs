// A property enum with no variants has no values to send.
use telemetry_core::TelemetryProperty;

#[derive(TelemetryProperty)]
enum PaymentMethod {}

fn main() {}

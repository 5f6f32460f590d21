// `TelemetryProperty` derived on a struct: only unit-only enums can be properties.
use telemetry_core::TelemetryProperty;

#[derive(TelemetryProperty)]
struct Address {
    city: String,
}

fn main() {
    let _ = Address { city: String::new() }.city;
}

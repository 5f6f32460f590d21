// `TelemetryEvent` derived on an enum: each event is its own struct.
use telemetry_core::TelemetryEvent;

/// Cart changes.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.changed")]
enum CartEvent {
    Added,
    Removed,
}

fn main() {
    let _ = (CartEvent::Added, CartEvent::Removed);
}

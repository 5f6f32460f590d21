// `#[telemetry]` without a list of keys.
use telemetry_core::TelemetryEvent;

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry]
struct SearchPerformed;

fn main() {
    let _ = SearchPerformed;
}

// A key and its value are separated by `:` instead of `=`.
use telemetry_core::TelemetryEvent;

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name: "search.performed", owner = "discovery")]
struct SearchPerformed;

fn main() {
    let _ = SearchPerformed;
}

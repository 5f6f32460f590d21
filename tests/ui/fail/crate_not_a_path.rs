// `crate = "..."` holds something that is not a path.
use telemetry_core::TelemetryEvent;

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed", crate = "my app/telemetry")]
struct SearchPerformed;

fn main() {
    let _ = SearchPerformed;
}

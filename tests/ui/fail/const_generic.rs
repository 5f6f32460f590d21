// An event with a const parameter.
use telemetry_core::TelemetryEvent;

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed<const N: usize> {
    /// Results shown.
    results: u32,
}

fn main() {
    let _ = SearchPerformed::<3> { results: 1 };
}

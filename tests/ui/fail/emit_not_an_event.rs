// `emit!` of a struct that does not derive `TelemetryEvent`.
use telemetry_core::emit;

/// A search ran.
struct SearchPerformed {
    /// Results shown.
    results: u32,
}

fn main() {
    emit!(SearchPerformed { results: 3 });
}

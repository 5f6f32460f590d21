// A field is missing from the struct literal given to `emit!`: the usual Rust error,
// at the user's literal.
use telemetry_core::{emit, TelemetryEvent};

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed {
    /// What was typed.
    query: String,
    /// Results shown.
    results: u32,
}

fn main() {
    emit!(SearchPerformed { query: String::new() });
}

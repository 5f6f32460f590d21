// `emit!(event)` with a variable: the macro cannot see the event's type.
use telemetry_core::{emit, TelemetryEvent};

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed {
    /// Results shown.
    results: u32,
}

fn main() {
    let event = SearchPerformed { results: 3 };
    emit!(event);
}

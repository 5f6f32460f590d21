// `emit!(make_event())`: the macro cannot see the event's type in a call.
use telemetry_core::{emit, TelemetryEvent};

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed {
    /// Results shown.
    results: u32,
}

fn make_event() -> SearchPerformed {
    SearchPerformed { results: 3 }
}

fn main() {
    emit!(make_event());
}

// `emit!(Self { .. })` inside an impl: the call site is registered in a static, which
// cannot name `Self`; write the type's name.
use telemetry_core::{emit, TelemetryEvent};

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed {
    /// Results shown.
    results: u32,
}

impl SearchPerformed {
    fn send(results: u32) {
        emit!(Self { results });
    }
}

fn main() {
    SearchPerformed::send(1);
}

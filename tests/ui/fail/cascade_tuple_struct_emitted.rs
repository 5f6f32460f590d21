// A tuple struct event (a shape error) that is then emitted: only the shape error is
// reported, not follow-up errors at `emit!`.
use telemetry_core::{emit, TelemetryEvent};

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed(u32);

fn main() {
    emit!(SearchPerformed, SearchPerformed(4));
}

// `emit!(E, event)` with a generic type parameter `E`: the call site is registered in a
// static, which cannot depend on `E`; generic code calls `event.emit()` instead.
use telemetry_core::{emit, TelemetryEvent};

fn send<E: TelemetryEvent>(event: E) {
    emit!(E, event);
}

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed;

fn main() {
    send(SearchPerformed);
}

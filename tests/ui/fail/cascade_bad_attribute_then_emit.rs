// A mistake in the attribute (`version = "2"`) of an event that is then emitted and
// used: only the attribute error is reported, not follow-up errors at every use.
use telemetry_core::{emit, TelemetryEvent};

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed", version = "2")]
struct SearchPerformed {
    /// Results shown.
    results: u32,
}

fn send<E: TelemetryEvent>(event: E) {
    event.emit();
}

fn main() {
    emit!(SearchPerformed { results: 3 });
    let event = SearchPerformed { results: 4 };
    emit!(SearchPerformed, event);
    send(SearchPerformed { results: 5 });
    let _ = SearchPerformed::schema();
}

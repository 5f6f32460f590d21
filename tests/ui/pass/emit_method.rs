// `TelemetryEvent::emit(self)` sends without registering a call site.
use telemetry_core::{testing, TelemetryEvent};

/// The app started.
#[derive(TelemetryEvent)]
#[telemetry(name = "app.started")]
struct AppStarted {
    /// Cold start.
    cold: bool,
}

fn send<E: TelemetryEvent>(event: E) {
    event.emit();
}

fn main() {
    let events = testing::capture(|| {
        AppStarted { cold: true }.emit();
        send(AppStarted { cold: false });
    });
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["cold"], false);
    assert!(telemetry_core::catalog().event("app.started").unwrap().call_sites.is_empty());
}

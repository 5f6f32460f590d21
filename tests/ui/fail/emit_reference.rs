// `emit!(&event)`: the macro takes the event by value, with its type visible.
use telemetry_core::{emit, TelemetryEvent};

/// The app started.
#[derive(TelemetryEvent)]
#[telemetry(name = "app.started")]
struct AppStarted;

fn main() {
    let event = AppStarted;
    emit!(&event);
}

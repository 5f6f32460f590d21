// `emit!(EventType, value)` where the value is of another event type.
use telemetry_core::{emit, TelemetryEvent};

/// The app started.
#[derive(TelemetryEvent)]
#[telemetry(name = "app.started")]
struct AppStarted;

/// The app stopped.
#[derive(TelemetryEvent)]
#[telemetry(name = "app.stopped")]
struct AppStopped;

fn main() {
    let stopped = AppStopped;
    emit!(AppStarted, stopped);
}

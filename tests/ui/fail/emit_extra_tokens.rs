// `emit!` given a second event: it takes one.
use telemetry_core::{emit, TelemetryEvent};

/// The app started.
#[derive(TelemetryEvent)]
#[telemetry(name = "app.started")]
struct AppStarted;

fn main() {
    emit!(AppStarted, AppStarted, AppStarted);
}

use telemetry_core::TelemetryEvent;

/// The app started.
#[derive(TelemetryEvent)]
#[telemetry(name = "app.started", active = true)]
struct AppStarted;

fn main() {}

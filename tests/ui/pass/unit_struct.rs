// A unit struct is an event without properties.
use telemetry_core::{emit, testing, TelemetryEvent};

/// The app finished starting.
#[derive(TelemetryEvent)]
#[telemetry(name = "app.started")]
struct AppStarted;

fn main() {
    let events = testing::capture(|| emit!(AppStarted));
    assert_eq!(events.names(), ["app.started"]);
    assert!(events[0].properties().is_empty());
    assert!(AppStarted::schema().properties.is_empty());
}

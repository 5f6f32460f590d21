// `emit!` of an enum variant: events are structs, one per event.
use telemetry_core::{emit, TelemetryProperty};

#[derive(TelemetryProperty)]
enum Source {
    Menu,
}

fn main() {
    emit!(Source::Menu);
}

//! The `telemetry` command.
fn main() {}

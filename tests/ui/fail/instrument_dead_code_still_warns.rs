// The attribute does not hide an unused function: `dead_code` still fires (the
// catalog registration names the event's schema, not the function).
#![deny(dead_code)]

use telemetry_core::instrument_event;

/// Never called.
#[instrument_event(name = "legacy.export_run")]
fn export() {}

fn main() {}

// A `const fn` cannot be measured.
use telemetry_core::instrument_event;

/// Doubles.
#[instrument_event(name = "math.doubled")]
const fn double(x: u32) -> u32 {
    x * 2
}

fn main() {
    let _ = double(1);
}

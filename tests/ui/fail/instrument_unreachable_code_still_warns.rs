// Lints about the user's own body still fire inside an instrumented function.
#![deny(unreachable_code)]

use telemetry_core::instrument_event;

/// Returns early.
#[instrument_event(name = "cart.checked")]
fn check(n: u8) -> u8 {
    return n;
    println!("never printed");
}

fn main() {
    let _ = check(1);
}

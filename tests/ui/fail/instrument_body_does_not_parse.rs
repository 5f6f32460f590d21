// A body with a syntax error is passed through: rustc reports the syntax error alone,
// and the function still exists for its callers (no "cannot find function" errors).
use telemetry_core::instrument_event;

/// A customer paid.
#[instrument_event(name = "checkout.payment")]
fn pay(amount: u64) -> u64 {
    let x = amount +;
    x
}

fn main() {
    let _ = pay(1);
}

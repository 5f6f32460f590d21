// Implicit mode needs a name.
use telemetry_core::instrument_event;

/// A customer paid.
#[instrument_event(owner = "payments")]
fn process_payment() {}

fn main() {
    process_payment();
}

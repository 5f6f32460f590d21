// A `Vec<u64>` argument is not a property type.
use telemetry_core::instrument_event;

/// Checks out.
#[instrument_event(name = "checkout.started", fields(dishes))]
fn checkout(dishes: Vec<u64>) {
    let _ = dishes;
}

fn main() {
    checkout(vec![]);
}

// The attribute goes on functions.
use telemetry_core::instrument_event;

/// Not a function.
#[instrument_event(name = "cart.viewed")]
struct Cart;

fn main() {
    let _ = Cart;
}

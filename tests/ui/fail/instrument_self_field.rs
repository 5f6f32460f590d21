// `self` is not a property: capture a value from it.
use telemetry_core::instrument_event;

struct Cart;

impl Cart {
    /// Checks out.
    #[instrument_event(name = "cart.checked_out", fields(self))]
    fn checkout(&self) {}
}

fn main() {
    Cart.checkout();
}

// `fields(...)` names `amount`, but the argument is `amount_cents`.
use telemetry_core::instrument_event;

/// A customer paid.
#[instrument_event(name = "checkout.payment", fields(amount, method))]
fn pay(amount_cents: u64, method: &str) {
    let _ = (amount_cents, method);
}

fn main() {
    pay(1, "card");
}

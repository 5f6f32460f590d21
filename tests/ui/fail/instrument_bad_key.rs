// `name` is misspelled `nmae`, and `field` is given for `fields`.
use telemetry_core::instrument_event;

/// A customer paid.
#[instrument_event(nmae = "checkout.payment", field(amount_cents))]
fn pay(amount_cents: u64) {
    let _ = amount_cents;
}

fn main() {
    pay(1);
}

// Typed mode: the argument `amount_cents` is a `String`, the event's field a `u64`.
use telemetry_core::{instrument_event, TelemetryEvent};

/// A payment was attempted.
#[derive(TelemetryEvent)]
#[telemetry(name = "payment.attempted")]
struct PaymentAttempted {
    /// Amount in cents.
    amount_cents: u64,
}

/// Pays.
#[instrument_event(event = PaymentAttempted)]
fn pay(amount_cents: String) {
    let _ = amount_cents;
}

fn main() {
    pay(String::new());
}

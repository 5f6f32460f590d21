// In typed mode the name comes from the event struct.
use telemetry_core::{instrument_event, TelemetryEvent};

/// A payment was attempted.
#[derive(TelemetryEvent)]
#[telemetry(name = "payment.attempted")]
struct PaymentAttempted {
    /// Amount in cents.
    amount_cents: u64,
}

/// Pays.
#[instrument_event(event = PaymentAttempted, name = "payment.tried")]
fn pay(amount_cents: u64) {
    let _ = amount_cents;
}

fn main() {
    pay(1);
}

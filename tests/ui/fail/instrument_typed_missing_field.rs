// Typed mode: the event has `method` and `coupon` fields that no argument fills.
use telemetry_core::{instrument_event, TelemetryEvent};

/// A payment was attempted.
#[derive(TelemetryEvent)]
#[telemetry(name = "payment.attempted")]
struct PaymentAttempted {
    /// Amount in cents.
    amount_cents: u64,
    /// Method.
    method: String,
    /// Coupon.
    coupon: Option<String>,
}

/// Pays.
#[instrument_event(event = PaymentAttempted)]
fn pay(amount_cents: u64) {
    let _ = amount_cents;
}

fn main() {
    pay(1);
}

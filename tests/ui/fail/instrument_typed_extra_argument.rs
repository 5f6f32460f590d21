// Typed mode without `fields(...)`: every argument fills the field of its name, and
// `db` is not a field of the event.
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
fn pay(amount_cents: u64, db: &str) {
    let _ = (amount_cents, db);
}

fn main() {
    pay(1, "db");
}

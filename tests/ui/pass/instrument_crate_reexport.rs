// `crate = "..."` names telemetry_core through a re-export, in both modes.
mod reexport {
    pub use telemetry_core;
}

use reexport::telemetry_core::{instrument_event, testing, TelemetryEvent};

/// A payment was attempted.
#[derive(TelemetryEvent)]
#[telemetry(name = "payment.attempted", crate = "reexport::telemetry_core")]
struct PaymentAttempted {
    /// Amount.
    amount_cents: u64,
}

/// Pays, typed.
#[instrument_event(event = PaymentAttempted, crate = "reexport::telemetry_core")]
fn pay(amount_cents: u64) {
    let _ = amount_cents;
}

/// Pays, implicit.
#[instrument_event(name = "payment.made", fields(amount_cents), crate = "reexport::telemetry_core")]
async fn pay_async(amount_cents: u64) {
    let _ = amount_cents;
}

fn main() {
    let events = testing::capture(|| {
        pay(1);
        drop(pay_async(2));
    });
    assert_eq!(events.names(), ["payment.attempted"]);
}

// `skip` leaves a field out of the event; its type need not be a property type.
use telemetry_core::{emit, testing, TelemetryEvent};

/// A payment failed.
#[derive(TelemetryEvent)]
#[telemetry(name = "payment.failed")]
struct PaymentFailed {
    /// Amount in cents.
    amount_cents: u64,
    #[telemetry(skip)]
    retry_budget: Vec<u8>,
}

fn main() {
    let event = PaymentFailed { amount_cents: 5, retry_budget: vec![1, 2] };
    assert_eq!(event.retry_budget.len(), 2);
    let events = testing::capture(|| emit!(PaymentFailed, event));
    assert_eq!(events[0].properties().len(), 1);
    assert_eq!(PaymentFailed::schema().properties.len(), 1);
}

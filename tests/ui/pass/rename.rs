// `rename` sets the property name in records.
use telemetry_core::{emit, testing, TelemetryEvent};

/// A payment failed.
#[derive(TelemetryEvent)]
#[telemetry(name = "payment.failed")]
struct PaymentFailed<'a> {
    /// Payment method.
    #[telemetry(rename = "method")]
    payment_method: &'a str,
}

fn main() {
    let events = testing::capture(|| emit!(PaymentFailed { payment_method: "upi" }));
    assert_eq!(events[0]["method"], "upi");
    assert!(events[0].property("payment_method").is_none());
    assert!(PaymentFailed::schema().property("method").is_some());
}

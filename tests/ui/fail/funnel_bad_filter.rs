use telemetry_core::TelemetryEvent;

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed;

/// A payment went through.
#[derive(TelemetryEvent)]
#[telemetry(name = "payment.completed")]
struct PaymentCompleted {
    /// How the customer paid.
    method: String,
}

telemetry_core::funnel! {
    /// Searching, then paying.
    name = "paying",
    steps = [SearchPerformed, PaymentCompleted where method == "upi"],
}

telemetry_core::funnel! {
    /// Searching, then paying with a float.
    name = "paying_float",
    steps = [SearchPerformed, PaymentCompleted where method = 1.5],
}

fn main() { let _ = PaymentCompleted { method: String::new() }; }

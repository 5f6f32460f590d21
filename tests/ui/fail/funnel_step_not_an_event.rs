use telemetry_core::TelemetryEvent;

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed;

struct CheckoutPage;

telemetry_core::funnel! {
    /// Searching, then the checkout page.
    name = "checkout",
    steps = [SearchPerformed, CheckoutPage],
}

fn main() {}
